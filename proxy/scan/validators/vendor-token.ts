// Vendor tokens with a fixed prefix: the pattern already proves the shape,
// so the validator only removes placeholders (`ghp_xxxx...`, `...EXAMPLE`)
// and, where the vendor embeds one, checks the token's own checksum.
import { crc32 } from 'node:zlib';
import type { Validator } from '../types';
import { isPlaceholderToken } from './placeholders';

export const token: Validator = (candidate) => !isPlaceholderToken(candidate);

const BASE62 = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz';

/** Base62 digits (GMP alphabet) of a 32-bit unsigned value, left-padded to 6. */
export function base62Checksum(value: number): string {
  let out = '';
  let v = value >>> 0;
  for (let i = 0; i < 6; i++) {
    out = BASE62[v % 62] + out;
    v = Math.floor(v / 62);
  }
  return out;
}

/**
 * GitHub (ghp_, gho_, ghu_) and npm (npm_) tokens: 4-char prefix, 30 random
 * base62 chars, then the CRC32 of those 30 chars in 6 base62 digits. A
 * random 36-char string passes with probability 2^-32.
 */
export const githubChecksum: Validator = (candidate) => {
  if (candidate.length !== 40 || isPlaceholderToken(candidate)) return false;
  const entropyPart = candidate.slice(4, 34);
  return base62Checksum(crc32(entropyPart)) === candidate.slice(34);
};
