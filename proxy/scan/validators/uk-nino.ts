// UK National Insurance numbers: no check digit, but HMRC's prefix rules
// (letters never used, prefixes never allocated) reject most look-alikes.
import type { Validator } from '../types';

const NEVER_FIRST = 'DFIQUV';
const NEVER_SECOND = 'DFIOQUV';
const UNALLOCATED_PREFIXES = new Set(['BG', 'GB', 'KN', 'NK', 'NT', 'TN', 'ZZ']);

/** `AB123456C` or `AB 12 34 56 C`, any case; spacing must be all or nothing. */
export const ukNino: Validator = (raw) => {
  const candidate = raw.toUpperCase();
  let compact = '';
  let spaces = 0;
  for (let i = 0; i < candidate.length; i++) {
    if (candidate.charCodeAt(i) === 0x20) spaces++;
    else compact += candidate[i];
  }
  if (compact.length !== 9 || (spaces !== 0 && spaces !== 4)) return false;
  const a = compact[0];
  const b = compact[1];
  if (a < 'A' || a > 'Z' || b < 'A' || b > 'Z') return false;
  if (NEVER_FIRST.includes(a) || NEVER_SECOND.includes(b)) return false;
  if (UNALLOCATED_PREFIXES.has(a + b)) return false;
  for (let i = 2; i < 8; i++) if (compact[i] < '0' || compact[i] > '9') return false;
  const suffix = compact[8];
  return suffix >= 'A' && suffix <= 'D';
};
