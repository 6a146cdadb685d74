// Licence numbers: US driver's licences (no check digit; the number must have
// the shape one of the states issues), UK driving licences (the DVLA layout
// encodes surname, birth date and initials, which is checked), and US DEA
// registration numbers, the licence a prescriber of controlled substances
// holds (a published check digit).
import type { Validator } from '../types';
import { allSameDigit, collectDigits, collected, isDate } from './digits';
import { longestAscendingRun, longestRepeatRun } from './placeholders';

/**
 * The shapes US states issue, separators removed (AAMVA's list, grouped):
 * digits only (1 to 14, or 16, long), one letter and 3 to 18 digits, two
 * letters and 2 to 7 digits, and the state-specific mixed forms (Iowa
 * 123AB4567, Idaho AB123456C, Kansas K1A2B, Missouri 12345678AB and
 * A123456R, New Hampshire 12ABC34567, North Dakota ABC123456, Vermont and
 * Maine 1234567A, Washington's older surname-and-initials numbers padded
 * with `*`).
 */
const US_STATE_SHAPES = new RegExp(
  '^(?:' +
    [
      '[0-9]{5,14}',
      '[0-9]{16}',
      '[A-Z][0-9]{3,18}',
      '[A-Z]{2}[0-9]{2,7}',
      '[0-9]{3}[A-Z]{2}[0-9]{4}',
      '[A-Z]{2}[0-9]{6}[A-Z]',
      '[A-Z][0-9][A-Z][0-9][A-Z]',
      '[0-9]{8}[A-Z]{2}',
      '[0-9]{7,9}[A-Z]',
      '[A-Z][0-9]{6}R',
      '[0-9]{2}[A-Z]{3}[0-9]{5}',
      '[A-Z]{3}[0-9]{6}',
      'WDL[A-Z0-9]{9}',
      '[A-Z][A-Z*]{4}[A-Z][A-Z*][0-9]{3}[A-Z0-9]{2}',
    ].join('|') +
    ')$',
);

/**
 * A US driver's licence number as written next to its label. Without a check
 * digit the shape is all there is, so values people write as placeholders
 * (one digit repeated, 12345678) are refused, and the number must be five
 * characters or more with at least three digits.
 */
export const usDriversLicense: Validator = (candidate) => {
  const s = candidate.toUpperCase().replace(/[ -]/g, '');
  if (s.length < 5 || !US_STATE_SHAPES.test(s)) return false;
  if (s.replace(/[^0-9]/g, '').length < 3) return false;
  return longestRepeatRun(s) < 5 && longestAscendingRun(s) < 6;
};

const UK_SURNAME = /^[A-Z]{1,5}9{0,4}$/;
const UK_INITIALS = /^[A-Z][A-Z9]$/;

/**
 * DVLA driving licence number, 16 characters: the surname's first five
 * letters padded with 9, the decade of birth, the birth month (plus 50 for
 * women), the day, the year's last digit, two initials (9 for none), a digit
 * and two check characters (their algorithm is not published).
 */
export const ukDrivingLicence: Validator = (candidate) => {
  const s = candidate.toUpperCase();
  if (s.length !== 16) return false;
  if (!UK_SURNAME.test(s.slice(0, 5)) || !UK_INITIALS.test(s.slice(11, 13))) return false;
  if (!/^[0-9]{6}$/.test(s.slice(5, 11)) || !/^[0-9]$/.test(s[13]) || !/^[A-Z0-9]{2}$/.test(s.slice(14))) return false;
  let month = Number(s.slice(6, 8));
  if (month > 50) month -= 50;
  // The century is not in the number: checked against a leap year, so 29 February passes.
  return isDate(2000, month, Number(s.slice(8, 10)));
};

/** First letters of DEA numbers: the registrant type (A-G, practitioners; M, mid-level; P-U, distributors; X, addiction treatment). */
const DEA_REGISTRANT_TYPES = 'ABCDEFGHJKLMPRSTUX';

/**
 * US DEA registration number: a registrant-type letter, the registrant's
 * surname initial (or 9 for a business), seven digits whose last is
 * (d1 + d3 + d5 + 2 * (d2 + d4 + d6)) mod 10.
 */
export const usDeaNumber: Validator = (candidate) => {
  const s = candidate.toUpperCase();
  if (s.length !== 9 || !DEA_REGISTRANT_TYPES.includes(s[0]) || !/^[A-Z9]$/.test(s[1])) return false;
  if (collectDigits(s.slice(2), '') !== 7) return false;
  const d = collected();
  if (allSameDigit(d, 7)) return false;
  return (d[0] + d[2] + d[4] + 2 * (d[1] + d[3] + d[5])) % 10 === d[6];
};
