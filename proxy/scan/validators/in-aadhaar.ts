// Indian Aadhaar numbers: 12 digits, never starting with 0 or 1, with a
// Verhoeff check digit (catches every single-digit error and adjacent swap).
import type { Validator } from '../types';
import { allSameDigit, collectDigits, collected } from './digits';

// Multiplication table of the dihedral group D5.
const D = [
  [0, 1, 2, 3, 4, 5, 6, 7, 8, 9],
  [1, 2, 3, 4, 0, 6, 7, 8, 9, 5],
  [2, 3, 4, 0, 1, 7, 8, 9, 5, 6],
  [3, 4, 0, 1, 2, 8, 9, 5, 6, 7],
  [4, 0, 1, 2, 3, 9, 5, 6, 7, 8],
  [5, 9, 8, 7, 6, 0, 4, 3, 2, 1],
  [6, 5, 9, 8, 7, 1, 0, 4, 3, 2],
  [7, 6, 5, 9, 8, 2, 1, 0, 4, 3],
  [8, 7, 6, 5, 9, 3, 2, 1, 0, 4],
  [9, 8, 7, 6, 5, 4, 3, 2, 1, 0],
];
// Position-dependent permutations: P[i] is P[1] applied i times.
const P = [
  [0, 1, 2, 3, 4, 5, 6, 7, 8, 9],
  [1, 5, 7, 6, 2, 8, 3, 0, 9, 4],
  [5, 8, 0, 3, 7, 9, 6, 1, 4, 2],
  [8, 9, 1, 6, 0, 4, 3, 5, 2, 7],
  [9, 4, 5, 3, 1, 2, 6, 8, 7, 0],
  [4, 2, 8, 6, 5, 7, 3, 9, 0, 1],
  [2, 7, 9, 3, 8, 0, 6, 4, 1, 5],
  [7, 0, 4, 6, 9, 1, 3, 2, 5, 8],
];

/** Verhoeff: true when the digits (check digit last) verify. */
export function verhoeffValid(d: ArrayLike<number>, n: number): boolean {
  let c = 0;
  for (let i = 0; i < n; i++) c = D[c][P[i % 8][d[n - 1 - i]]];
  return c === 0;
}

export const inAadhaar: Validator = (candidate) => {
  const n = collectDigits(candidate, ' -');
  if (n !== 12) return false;
  const d = collected();
  if (d[0] < 2 || allSameDigit(d, 12)) return false;
  return verhoeffValid(d, 12);
};
