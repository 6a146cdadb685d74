// Ethereum addresses: 0x + 40 hex digits. A mixed-case address carries the
// EIP-55 checksum (letter case from the Keccak-256 of the lower-case hex), so
// one with the wrong case is a typo or a made-up value; single-case ones have
// no checksum to check. The zero address and single-digit fills are
// placeholders.
import type { Validator } from '../types';
import { keccak256 } from './keccak';
import { longestRepeatRun } from './placeholders';

/** EIP-55: each letter is upper case exactly when its nibble of keccak256(lower-case hex) is >= 8. */
export function hasValidEip55Case(hex: string): boolean {
  const lower = hex.toLowerCase();
  if (hex === lower || hex === hex.toUpperCase()) return true;
  const hash = keccak256(Buffer.from(lower, 'latin1'));
  for (let i = 0; i < 40; i++) {
    const c = hex.charCodeAt(i);
    const isLetter = (c | 0x20) >= 0x61 && (c | 0x20) <= 0x66;
    if (!isLetter) continue;
    const nibble = i % 2 === 0 ? hash[i >> 1] >> 4 : hash[i >> 1] & 0x0f;
    const upper = c < 0x61;
    if (upper !== nibble >= 8) return false;
  }
  return true;
}

export const ethAddress: Validator = (candidate) => {
  if (candidate.length !== 42 || candidate[0] !== '0' || (candidate[1] !== 'x' && candidate[1] !== 'X')) return false;
  for (let i = 2; i < 42; i++) {
    const c = candidate.charCodeAt(i) | 0x20;
    if (!((c >= 0x30 && c <= 0x39) || (c >= 0x61 && c <= 0x66))) return false;
  }
  const hex = candidate.slice(2);
  return longestRepeatRun(hex) < 20 && hasValidEip55Case(hex);
};
