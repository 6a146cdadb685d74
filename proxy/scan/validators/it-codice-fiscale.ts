// Italian fiscal code (codice fiscale): 16 characters whose last letter is a
// checksum: characters in odd positions map through a fixed table, even
// positions by their plain value, and the sum mod 26 gives the letter.
// Digits may be replaced by letters (omocodia), which the tables cover.
import type { Validator } from '../types';

// Values for characters in odd (1st, 3rd, ...) positions; digits 0-9 share A-J's.
const ODD = [1, 0, 5, 7, 9, 13, 15, 17, 19, 21, 2, 4, 18, 20, 11, 3, 6, 8, 12, 14, 16, 10, 22, 25, 24, 23];
const MONTHS = 'ABCDEHLMPRST';

function ordinal(c: number): number {
  if (c >= 0x30 && c <= 0x39) return c - 0x30;
  if (c >= 0x41 && c <= 0x5a) return c - 0x41;
  return -1;
}

export const itCodiceFiscale: Validator = (candidate) => {
  if (candidate.length !== 16) return false;
  const s = candidate.toUpperCase();
  if (!MONTHS.includes(s[8])) return false;
  let sum = 0;
  for (let i = 0; i < 15; i++) {
    const v = ordinal(s.charCodeAt(i));
    if (v < 0) return false;
    sum += i % 2 === 0 ? ODD[v] : v;
  }
  return s.charCodeAt(15) === 0x41 + (sum % 26);
};
