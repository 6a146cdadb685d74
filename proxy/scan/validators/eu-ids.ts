// European personal identifiers with a check digit and, where the number
// encodes a birth date, a calendar check: Polish PESEL, Swedish
// personnummer, Finnish HETU, Belgian national number, Romanian CNP,
// Portuguese NIF, Irish PPS number.
import type { Validator } from '../types';
import { allSameDigit, collectDigits, collected, digitValue, isDate, luhnValid, weightedSum } from './digits';

export const plPesel: Validator = (candidate) => {
  if (collectDigits(candidate, '') !== 11) return false;
  const d = collected();
  const yy = digitValue(d, 0, 2);
  const mm = digitValue(d, 2, 4);
  // The month carries the century: +80 for 1800s, +0 1900s, +20 2000s, +40 2100s, +60 2200s.
  const century = [1900, 2000, 2100, 2200, 1800][Math.floor(mm / 20)];
  if (!isDate(century + yy, mm % 20, digitValue(d, 4, 6))) return false;
  return (10 - (weightedSum(d, [1, 3, 7, 9, 1, 3, 7, 9, 1, 3]) % 10)) % 10 === d[10];
};

/** YYMMDD-NNNC or YYYYMMDD-NNNC (`+` for people over 100); Luhn over the 10-digit form. Coordination numbers add 60 to the day. */
export const sePersonnummer: Validator = (candidate) => {
  const n = collectDigits(candidate, '-+');
  if (n !== 10 && n !== 12) return false;
  const all = collected();
  const d = n === 12 ? all.subarray(2) : all;
  const year = n === 12 ? digitValue(all, 0, 4) : 1900 + digitValue(d, 0, 2);
  let day = digitValue(d, 4, 6);
  if (day > 60) day -= 60;
  if (!isDate(year, digitValue(d, 2, 4), day)) return false;
  return luhnValid(d, 10);
};

const HETU_CHECK = '0123456789ABCDEFHJKLMNPRSTUVWXY';
const HETU_CENTURY: Record<string, number> = { '+': 1800, '-': 1900, U: 1900, V: 1900, W: 1900, X: 1900, Y: 1900, A: 2000, B: 2000, C: 2000, D: 2000, E: 2000, F: 2000 };

/** DDMMYYCZZZQ: century sign C, individual number ZZZ, check character Q = DDMMYYZZZ mod 31. */
export const fiHetu: Validator = (candidate) => {
  if (candidate.length !== 11) return false;
  const s = candidate.toUpperCase();
  const century = HETU_CENTURY[s[6]];
  if (century === undefined) return false;
  const digits = s.slice(0, 6) + s.slice(7, 10);
  if (!/^[0-9]{9}$/.test(digits)) return false;
  if (!isDate(century + Number(s.slice(4, 6)), Number(s.slice(2, 4)), Number(s.slice(0, 2)))) return false;
  return HETU_CHECK[Number(digits) % 31] === s[10];
};

/** YYMMDD SSS CC: CC = 97 - (YYMMDDSSS mod 97), with a leading 2 for people born from 2000. */
export const beNationalNumber: Validator = (candidate) => {
  if (collectDigits(candidate, '.- ', false) !== 11) return false;
  const d = collected();
  const base = digitValue(d, 0, 9);
  const check = digitValue(d, 9, 11);
  const mm = digitValue(d, 2, 4);
  const dd = digitValue(d, 4, 6);
  // Month or day 00 is issued when the birth date is unknown.
  if (mm > 12 || dd > 31) return false;
  return 97 - (base % 97) === check || 97 - ((2_000_000_000 + base) % 97) === check;
};

const CNP_WEIGHTS = [2, 7, 9, 1, 4, 6, 3, 5, 8, 2, 7, 9];

/** S YYMMDD JJ NNN C: sex/century digit, birth date, county, check = weighted sum mod 11 (10 -> 1). */
export const roCnp: Validator = (candidate) => {
  if (collectDigits(candidate, '') !== 13) return false;
  const d = collected();
  const s = d[0];
  if (s === 0 || s === 9) return false;
  const century = s <= 2 ? 1900 : s <= 4 ? 1800 : s <= 6 ? 2000 : 1900;
  if (!isDate(century + digitValue(d, 1, 3), digitValue(d, 3, 5), digitValue(d, 5, 7))) return false;
  let check = weightedSum(d, CNP_WEIGHTS) % 11;
  if (check === 10) check = 1;
  return check === d[12];
};

/** Portuguese NIF/NIPC: 9 digits, weights 9..2, check = 11 - sum mod 11 (10, 11 -> 0). */
export const ptNif: Validator = (candidate) => {
  if (collectDigits(candidate, ' ') !== 9) return false;
  const d = collected();
  if (d[0] === 0 || d[0] === 4 || d[0] === 7 || allSameDigit(d, 9)) return false;
  let check = 11 - (weightedSum(d, [9, 8, 7, 6, 5, 4, 3, 2]) % 11);
  if (check >= 10) check = 0;
  return check === d[8];
};

const PPS_LETTERS = 'WABCDEFGHIJKLMNOPQRSTUV';

/** Irish PPS number: 7 digits, a check letter (weights 8..2, plus 9 x the optional second letter), mod 23. */
export const iePps: Validator = (candidate) => {
  const s = candidate.toUpperCase();
  if (!/^[0-9]{7}[A-W][A-IW]?$/.test(s)) return false;
  let sum = 0;
  for (let i = 0; i < 7; i++) sum += (s.charCodeAt(i) - 48) * (8 - i);
  if (s.length === 9 && s[8] !== 'W') sum += 9 * (s.charCodeAt(8) - 64);
  return PPS_LETTERS[sum % 23] === s[7];
};

/**
 * Italian VAT number (partita IVA), optionally after `IT`: 11 digits, Luhn
 * over all of them, digits 8-10 the issuing tax office (001-100, 120, 121,
 * 888, 999).
 */
export const itPartitaIva: Validator = (candidate) => {
  const s = candidate.toUpperCase().startsWith('IT') ? candidate.slice(2) : candidate;
  if (collectDigits(s, ' ') !== 11) return false;
  const d = collected();
  if (allSameDigit(d, 7)) return false;
  const office = digitValue(d, 7, 10);
  if (!((office >= 1 && office <= 100) || office === 120 || office === 121 || office === 888 || office === 999)) return false;
  return luhnValid(d, 11);
};
