// Ethereum addresses: 0x + 40 hex digits. The EIP-55 mixed-case checksum
// needs Keccak-256, which node:crypto does not provide (its sha3-256 uses
// different padding), so only shape and the obvious non-addresses are
// checked: the zero address and single-digit fills used as placeholders.
import type { Validator } from '../types';
import { longestRepeatRun } from './placeholders';

export const ethAddress: Validator = (candidate) => {
  if (candidate.length !== 42 || candidate[0] !== '0' || (candidate[1] !== 'x' && candidate[1] !== 'X')) return false;
  for (let i = 2; i < 42; i++) {
    const c = candidate.charCodeAt(i) | 0x20;
    if (!((c >= 0x30 && c <= 0x39) || (c >= 0x61 && c <= 0x66))) return false;
  }
  return longestRepeatRun(candidate.slice(2)) < 20;
};
