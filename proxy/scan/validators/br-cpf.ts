// Brazilian individual taxpayer number (CPF): two mod-11 check digits.
// Numbers made of one repeated digit pass the arithmetic but are invalid.
import type { Validator } from '../types';
import { allSameDigit, collectDigits, collected } from './digits';

function checkDigit(d: Uint8Array, count: number): number {
  let sum = 0;
  for (let i = 0; i < count; i++) sum += d[i] * (count + 1 - i);
  const r = (sum * 10) % 11;
  return r === 10 ? 0 : r;
}

/** `52998224725` or the printed `529.982.247-25` (dots and a dash by design). */
export const brCpf: Validator = (candidate) => {
  const n = collectDigits(candidate, '.-', false);
  if (n !== 11) return false;
  if (candidate.length === 14 && (candidate[3] !== '.' || candidate[7] !== '.' || candidate[11] !== '-')) return false;
  if (candidate.length !== 11 && candidate.length !== 14) return false;
  const d = collected();
  if (allSameDigit(d, 11)) return false;
  return checkDigit(d, 9) === d[9] && checkDigit(d, 10) === d[10];
};
