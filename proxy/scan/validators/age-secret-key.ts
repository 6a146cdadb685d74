// age (age-encryption.org) identities: `AGE-SECRET-KEY-1` + bech32 of a
// 32-byte X25519 key. The checksum makes a random look-alike implausible.
import type { Validator } from '../types';
import { bech32Decode, fiveToEightBits } from './bech32';

export const ageSecretKey: Validator = (candidate) => {
  // age keys exceed BIP-173's 90-character address limit by design.
  const decoded = bech32Decode(candidate, 128);
  if (!decoded || decoded.encoding !== 'bech32' || decoded.hrp !== 'age-secret-key-') return false;
  const key = fiveToEightBits(decoded.data, 0);
  return key !== undefined && key.length === 32;
};
