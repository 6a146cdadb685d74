// NHS numbers (England, Wales, Isle of Man): ten digits, the last a mod-11
// check over weights 10..2; a remainder giving 10 is never issued.
import type { Validator } from '../types';
import { allSameDigit, collectDigits, collected, weightedSum } from './digits';

export const ukNhsNumber: Validator = (candidate) => {
  if (collectDigits(candidate, ' -') !== 10) return false;
  const d = collected();
  if (allSameDigit(d, 10)) return false;
  let check = 11 - (weightedSum(d, [10, 9, 8, 7, 6, 5, 4, 3, 2]) % 11);
  if (check === 11) check = 0;
  return check !== 10 && check === d[9];
};
