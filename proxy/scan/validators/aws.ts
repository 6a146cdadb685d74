// AWS credentials. Key ids are base32 after a 4-letter kind prefix; the
// secret key is 40 base64 characters with nothing to anchor on but the
// assignment around it, so it is gated on randomness. AWS's documentation
// values (AKIAIOSFODNN7EXAMPLE, ...EXAMPLEKEY) are everywhere and rejected.
import type { Validator } from '../types';
import { minEntropyOf, shannonEntropy } from './entropy';
import { isPlaceholderToken } from './placeholders';

export const awsAccessKeyId: Validator = (candidate) => {
  if (candidate.length !== 20 || isPlaceholderToken(candidate)) return false;
  // Base32 alphabet after the prefix: A-Z and 2-7.
  for (let i = 4; i < 20; i++) {
    const c = candidate.charCodeAt(i);
    if (!((c >= 0x41 && c <= 0x5a) || (c >= 0x32 && c <= 0x37))) return false;
  }
  return shannonEntropy(candidate.slice(4)) >= 3.0;
};

export const awsSecretKey: Validator = (candidate, spec) => {
  if (candidate.length !== 40 || isPlaceholderToken(candidate)) return false;
  let hexOnly = true;
  for (let i = 0; i < 40; i++) {
    const c = candidate.charCodeAt(i) | 0x20;
    if (!((c >= 0x30 && c <= 0x39) || (c >= 0x61 && c <= 0x66))) hexOnly = false;
  }
  // A 40-char hex string is a SHA-1 (a commit id), not a base64 secret.
  if (hexOnly) return false;
  return shannonEntropy(candidate) >= minEntropyOf(spec, 4.0);
};
