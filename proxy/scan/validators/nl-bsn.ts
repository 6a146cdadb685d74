// Dutch citizen service number (BSN): the "elfproef", a weighted sum with
// weights 9..2 and -1 that must be divisible by 11.
import type { Validator } from '../types';
import { allSameDigit, collectDigits, collected } from './digits';

export const nlBsn: Validator = (candidate) => {
  const n = collectDigits(candidate, '.');
  if (n !== 9) return false;
  const d = collected();
  if (allSameDigit(d, 9)) return false;
  let sum = -d[8];
  for (let i = 0; i < 8; i++) sum += d[i] * (9 - i);
  return sum % 11 === 0;
};
