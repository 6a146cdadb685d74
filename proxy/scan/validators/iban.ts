// IBAN (ISO 13616): per-country total length from the SWIFT IBAN registry,
// then the ISO 7064 mod-97-10 check. The library's IBAN pattern is generated
// from this same table, so the two cannot drift apart.
import type { Validator } from '../types';

/** Total IBAN length per country code. */
export const IBAN_LENGTHS: Readonly<Record<string, number>> = Object.freeze({
  AD: 24, AE: 23, AL: 28, AT: 20, AZ: 28, BA: 20, BE: 16, BG: 22, BH: 22, BI: 27, BR: 29, BY: 28,
  CH: 21, CR: 22, CY: 28, CZ: 24, DE: 22, DJ: 27, DK: 18, DO: 28, EE: 20, EG: 29, ES: 24, FI: 18,
  FK: 18, FO: 18, FR: 27, GB: 22, GE: 22, GI: 23, GL: 18, GR: 27, GT: 28, HN: 28, HR: 21, HU: 28,
  IE: 22, IL: 23, IQ: 23, IS: 26, IT: 27, JO: 30, KW: 30, KZ: 20, LB: 28, LC: 32, LI: 21, LT: 20,
  LU: 20, LV: 21, LY: 25, MC: 27, MD: 24, ME: 22, MK: 19, MN: 20, MR: 27, MT: 31, MU: 30, NI: 28,
  NL: 18, NO: 15, OM: 23, PK: 24, PL: 28, PS: 29, PT: 25, QA: 29, RO: 24, RS: 22, RU: 33, SA: 24,
  SC: 31, SD: 18, SE: 24, SI: 19, SK: 24, SM: 27, SO: 23, ST: 25, SV: 28, TL: 23, TN: 24, TR: 26,
  UA: 29, VA: 22, VG: 24, XK: 20, YE: 30,
});

const MAX_IBAN = 34;
const compact = new Uint8Array(MAX_IBAN);

const isUpper = (c: number): boolean => c >= 0x41 && c <= 0x5a;
const isDigit = (c: number): boolean => c >= 0x30 && c <= 0x39;

/**
 * Accepts the compact form or the print form with single spaces every four
 * characters (`DE89 3704 0044 0532 0130 00`); any other spacing is rejected
 * because it is not how IBANs are written.
 */
export const iban: Validator = (candidate) => {
  const spaced = candidate.indexOf(' ') >= 0;
  let n = 0;
  let groupLength = 0;
  for (let i = 0; i < candidate.length; i++) {
    const c = candidate.charCodeAt(i);
    if (c === 0x20) {
      if (groupLength !== 4) return false;
      groupLength = 0;
      continue;
    }
    if (!isUpper(c) && !isDigit(c)) return false;
    if (n === MAX_IBAN || (spaced && groupLength === 4)) return false;
    compact[n++] = c;
    groupLength++;
  }
  if (groupLength === 0) return false;
  if (n < 5 || !isUpper(compact[0]) || !isUpper(compact[1]) || !isDigit(compact[2]) || !isDigit(compact[3])) return false;
  const country = String.fromCharCode(compact[0], compact[1]);
  if (IBAN_LENGTHS[country] !== n) return false;
  // Rearranged: BBAN first, then country and check digits; letters count as 10..35.
  let rem = 0;
  for (let k = 0; k < n; k++) {
    const c = compact[(k + 4) % n];
    rem = isDigit(c) ? (rem * 10 + (c - 0x30)) % 97 : (rem * 100 + (c - 0x37)) % 97;
  }
  return rem === 1;
};
