// German tax identification number (Steuerliche Identifikationsnummer):
// 11 digits, no leading zero, in the first ten exactly one digit repeats
// (twice, or three times but not all adjacent), and an ISO 7064 MOD 11,10
// check digit. The repetition rule alone rejects most random numbers.
import type { Validator } from '../types';
import { collectDigits, collected } from './digits';

const seen = new Uint8Array(10);

export const deTaxId: Validator = (candidate) => {
  const n = collectDigits(candidate, ' /');
  if (n !== 11) return false;
  const d = collected();
  if (d[0] === 0) return false;
  seen.fill(0);
  for (let i = 0; i < 10; i++) seen[d[i]]++;
  let repeated = -1;
  for (let v = 0; v < 10; v++) {
    if (seen[v] > 3) return false;
    if (seen[v] >= 2) {
      if (repeated >= 0) return false;
      repeated = v;
    }
  }
  if (repeated < 0) return false;
  if (seen[repeated] === 3) {
    for (let i = 0; i + 2 < 10; i++) {
      if (d[i] === repeated && d[i + 1] === repeated && d[i + 2] === repeated) return false;
    }
  }
  let product = 10;
  for (let i = 0; i < 10; i++) {
    let sum = (d[i] + product) % 10;
    if (sum === 0) sum = 10;
    product = (sum * 2) % 11;
  }
  let check = 11 - product;
  if (check === 10) check = 0;
  return check === d[10];
};
