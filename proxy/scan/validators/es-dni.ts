// Spanish DNI (8 digits + letter) and NIE (X/Y/Z + 7 digits + letter): the
// letter is the number mod 23 mapped through the Ministry of the Interior's
// table; for NIE the leading X/Y/Z stands for 0/1/2.
import type { Validator } from '../types';

const CONTROL_LETTERS = 'TRWAGMYFPDXBNJZSQVHLCKE';

export const esDni: Validator = (candidate) => {
  let value = 0;
  let digits = 0;
  let letter = '';
  for (let i = 0; i < candidate.length; i++) {
    const ch = candidate[i];
    const c = candidate.charCodeAt(i);
    if (c === 0x2d /* - */) continue;
    if (c >= 0x30 && c <= 0x39) {
      if (letter !== '') return false;
      value = value * 10 + (c - 0x30);
      digits++;
    } else if (i === 0 && (ch === 'X' || ch === 'Y' || ch === 'Z')) {
      value = ch === 'X' ? 0 : ch === 'Y' ? 1 : 2;
      digits++;
    } else if (c >= 0x41 && c <= 0x5a && letter === '') {
      letter = ch;
    } else {
      return false;
    }
  }
  if (digits !== 8 || letter === '') return false;
  if (value === 0) return false;
  return CONTROL_LETTERS[value % 23] === letter;
};
