// Asia-Pacific identifiers: Singapore NRIC/FIN (check letter), Australian
// tax file number (weighted mod 11) and Medicare card number (weighted mod
// 10), Chinese resident identity number (ISO 7064 MOD 11-2 with a birth
// date), Korean resident registration number, Indian PAN (holder-type rule).
import type { Validator } from '../types';
import { allSameDigit, collectDigits, collected, digitValue, isDate, weightedSum } from './digits';
import { longestAscendingRun } from './placeholders';

const NRIC_ST = 'JZIHGFEDCBA';
const NRIC_FG = 'XWUTRQPNMLK';

export const sgNric: Validator = (candidate) => {
  if (candidate.length !== 9) return false;
  const s = candidate.toUpperCase();
  const prefix = s[0];
  if (!'STFG'.includes(prefix) || !/^[0-9]{7}$/.test(s.slice(1, 8))) return false;
  let sum = 0;
  const w = [2, 7, 6, 5, 4, 3, 2];
  for (let i = 0; i < 7; i++) sum += (s.charCodeAt(i + 1) - 48) * w[i];
  if (prefix === 'T' || prefix === 'G') sum += 4;
  const table = prefix === 'S' || prefix === 'T' ? NRIC_ST : NRIC_FG;
  return table[sum % 11] === s[8];
};

export const auTfn: Validator = (candidate) => {
  const n = collectDigits(candidate, ' -');
  const d = collected();
  if (n === 9) return !allSameDigit(d, 9) && weightedSum(d, [1, 4, 3, 7, 5, 8, 6, 9, 10]) % 11 === 0;
  if (n === 8) return !allSameDigit(d, 8) && weightedSum(d, [10, 7, 8, 4, 6, 3, 5, 1]) % 11 === 0;
  return false;
};

/** 10 digits (11 with the individual reference number): first 2-6, ninth = weighted sum of the first eight mod 10. */
export const auMedicare: Validator = (candidate) => {
  const n = collectDigits(candidate, ' -');
  if (n !== 10 && n !== 11) return false;
  const d = collected();
  if (d[0] < 2 || d[0] > 6) return false;
  return weightedSum(d, [1, 3, 7, 9, 1, 3, 7, 9]) % 10 === d[8];
};

const CN_WEIGHTS = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2];
const CN_CHECK = '10X98765432';

export const cnResidentId: Validator = (candidate) => {
  if (candidate.length !== 18) return false;
  let sum = 0;
  for (let i = 0; i < 17; i++) {
    const c = candidate.charCodeAt(i) - 48;
    if (c < 0 || c > 9) return false;
    sum += c * CN_WEIGHTS[i];
  }
  const year = Number(candidate.slice(6, 10));
  if (year < 1900 || !isDate(year, Number(candidate.slice(10, 12)), Number(candidate.slice(12, 14)))) return false;
  return CN_CHECK[sum % 11] === candidate[17].toUpperCase();
};

/**
 * YYMMDD-SNNNNNC. Numbers issued before October 2020 end in a weighted
 * mod-11 check digit; later ones are random, which this validator does not
 * accept (it would accept any date-shaped number).
 */
export const krRrn: Validator = (candidate) => {
  if (collectDigits(candidate, '-') !== 13) return false;
  const d = collected();
  const s = d[6];
  if (s < 1 || s > 4) return false;
  const year = (s <= 2 ? 1900 : 2000) + digitValue(d, 0, 2);
  if (!isDate(year, digitValue(d, 2, 4), digitValue(d, 4, 6))) return false;
  return (11 - (weightedSum(d, [2, 3, 4, 5, 6, 7, 8, 9, 2, 3, 4, 5]) % 11)) % 10 === d[12];
};

/**
 * Indian Permanent Account Number: AAAPL1234C. The fourth letter is the
 * holder type (P person, C company, H HUF, F firm, A AOP, T trust, B BOI,
 * L local authority, J artificial person, G government); the check letter's
 * algorithm is not public. Documentation values (ABCDE1234F) are rejected.
 */
export const inPan: Validator = (candidate) => {
  const s = candidate.toUpperCase();
  if (!/^[A-Z]{3}[PCHFATBLJG][A-Z][0-9]{4}[A-Z]$/.test(s)) return false;
  return longestAscendingRun(s.slice(0, 5)) < 4 && longestAscendingRun(s.slice(5, 9)) < 4;
};

/**
 * Australian Business Number: 11 digits; with 1 taken from the first digit,
 * the weighted sum (10, 1, 3, 5, ..., 19) is a multiple of 89.
 */
export const auAbn: Validator = (candidate) => {
  if (collectDigits(candidate, ' ') !== 11) return false;
  const d = collected();
  if (d[0] === 0 || allSameDigit(d, 11)) return false;
  return (weightedSum(d, [10, 1, 3, 5, 7, 9, 11, 13, 15, 17, 19]) - 10) % 89 === 0;
};

/** Australian Company Number: 9 digits, the last = (10 - weighted sum (8..1) mod 10) mod 10. */
export const auAcn: Validator = (candidate) => {
  if (collectDigits(candidate, ' ') !== 9) return false;
  const d = collected();
  if (allSameDigit(d, 9)) return false;
  return (10 - (weightedSum(d, [8, 7, 6, 5, 4, 3, 2, 1]) % 10)) % 10 === d[8];
};
