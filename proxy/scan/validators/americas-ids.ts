// US and Canadian identifiers with a check digit or an allocation rule:
// ITIN (IRS group ranges), NPI (Luhn over the 80840 health-industry prefix),
// ABA routing numbers (3-7-1 weights, Federal Reserve prefixes), Canadian SIN
// (Luhn).
import type { Validator } from '../types';
import { allSameDigit, collectDigits, collected, digitValue, luhnValid, weightedSum } from './digits';

/** IRS: 9XX-GG-XXXX where GG is 50-65, 70-88, 90-92 or 94-99. */
export const usItin: Validator = (candidate) => {
  if (collectDigits(candidate, '- ') !== 9) return false;
  const d = collected();
  if (d[0] !== 9) return false;
  const g = digitValue(d, 3, 5);
  return (g >= 50 && g <= 65) || (g >= 70 && g <= 88) || (g >= 90 && g <= 92) || (g >= 94 && g <= 99);
};

/** CMS National Provider Identifier: Luhn over `80840` + the 10 digits, i.e. the plain Luhn sum plus 24. */
export const usNpi: Validator = (candidate) => {
  if (collectDigits(candidate, '') !== 10) return false;
  const d = collected();
  return (d[0] === 1 || d[0] === 2) && luhnValid(d, 10, 24);
};

/** First two digits the Federal Reserve assigns (00 is the US government, 21-32 thrift, 61-72 electronic, 80 traveller's cheques). */
function abaPrefixOk(p: number): boolean {
  return p <= 12 || (p >= 21 && p <= 32) || (p >= 61 && p <= 72) || p === 80;
}

export const usAbaRouting: Validator = (candidate) => {
  if (collectDigits(candidate, '') !== 9) return false;
  const d = collected();
  if (allSameDigit(d, 9) || !abaPrefixOk(digitValue(d, 0, 2))) return false;
  return weightedSum(d, [3, 7, 1, 3, 7, 1, 3, 7, 1]) % 10 === 0;
};

/** Canadian Social Insurance Number: Luhn; 0 and 8 are never a first digit. */
export const caSin: Validator = (candidate) => {
  if (collectDigits(candidate, '- ') !== 9) return false;
  const d = collected();
  if (d[0] === 0 || d[0] === 8 || allSameDigit(d, 9)) return false;
  return luhnValid(d, 9);
};
