// US Social Security Numbers: no checksum exists, so the validator applies
// the SSA's allocation rules (never-issued areas, zero groups and serials)
// and drops the numbers printed in advertising and documentation.
import type { Validator } from '../types';
import { allSameDigit, collectDigits, collected, digitValue } from './digits';

/** Published as examples (wallet inserts, IRS and SSA material), never valid. */
const WELL_KNOWN = new Set(['078051120', '219099999', '123456789']);

export const usSsn: Validator = (candidate) => {
  const n = collectDigits(candidate, '- .');
  if (n !== 9) return false;
  const d = collected();
  // A separated SSN is written 3-2-4 with one separator kind (`-`, space or `.`).
  if (candidate.length !== 9 && candidate.length !== 11) return false;
  if (candidate.length === 11) {
    const sep = candidate.charCodeAt(3);
    if ((sep >= 0x30 && sep <= 0x39) || sep !== candidate.charCodeAt(6)) return false;
  }
  const area = digitValue(d, 0, 3);
  const group = digitValue(d, 3, 5);
  const serial = digitValue(d, 5, 9);
  if (area === 0 || area === 666 || area >= 900) return false;
  if (group === 0 || serial === 0) return false;
  if (allSameDigit(d, 9)) return false;
  let compact = '';
  for (let i = 0; i < 9; i++) compact += d[i];
  return !WELL_KNOWN.has(compact);
};
