// Payment card numbers: one shared digit-run candidate pattern in the
// library, and this validator does the discrimination (separators, issuer
// prefix and length, Luhn), so adding a brand is a table row, not a regex.
import type { Validator } from '../types';

interface IssuerRange {
  brand: string;
  /** Number of leading digits compared against from..to. */
  prefixDigits: number;
  from: number;
  to: number;
  /** Allowed total lengths. */
  lengths: readonly number[];
}

const r = (min: number, max: number): number[] => Array.from({ length: max - min + 1 }, (_, i) => min + i);

/** Issuer identification ranges (public scheme documentation); order does not matter. */
export const ISSUER_RANGES: readonly IssuerRange[] = [
  { brand: 'visa', prefixDigits: 1, from: 4, to: 4, lengths: [13, 16, 19] },
  { brand: 'mastercard', prefixDigits: 2, from: 51, to: 55, lengths: [16] },
  { brand: 'mastercard', prefixDigits: 4, from: 2221, to: 2720, lengths: [16] },
  { brand: 'amex', prefixDigits: 2, from: 34, to: 34, lengths: [15] },
  { brand: 'amex', prefixDigits: 2, from: 37, to: 37, lengths: [15] },
  { brand: 'discover', prefixDigits: 4, from: 6011, to: 6011, lengths: r(16, 19) },
  { brand: 'discover', prefixDigits: 3, from: 644, to: 649, lengths: r(16, 19) },
  { brand: 'discover', prefixDigits: 2, from: 65, to: 65, lengths: r(16, 19) },
  { brand: 'jcb', prefixDigits: 4, from: 3528, to: 3589, lengths: r(16, 19) },
  { brand: 'diners', prefixDigits: 3, from: 300, to: 305, lengths: r(14, 19) },
  { brand: 'diners', prefixDigits: 4, from: 3095, to: 3095, lengths: r(14, 19) },
  { brand: 'diners', prefixDigits: 2, from: 36, to: 36, lengths: r(14, 19) },
  { brand: 'diners', prefixDigits: 2, from: 38, to: 39, lengths: r(14, 19) },
  { brand: 'unionpay', prefixDigits: 2, from: 62, to: 62, lengths: r(16, 19) },
  { brand: 'unionpay', prefixDigits: 2, from: 81, to: 81, lengths: r(16, 19) },
  { brand: 'mir', prefixDigits: 4, from: 2200, to: 2204, lengths: r(16, 19) },
  { brand: 'maestro', prefixDigits: 4, from: 5018, to: 5018, lengths: r(12, 19) },
  { brand: 'maestro', prefixDigits: 4, from: 5020, to: 5020, lengths: r(12, 19) },
  { brand: 'maestro', prefixDigits: 4, from: 5038, to: 5038, lengths: r(12, 19) },
  { brand: 'maestro', prefixDigits: 4, from: 5893, to: 5893, lengths: r(12, 19) },
  { brand: 'maestro', prefixDigits: 4, from: 6304, to: 6304, lengths: r(12, 19) },
  { brand: 'maestro', prefixDigits: 4, from: 6759, to: 6759, lengths: r(12, 19) },
  { brand: 'maestro', prefixDigits: 4, from: 6761, to: 6763, lengths: r(12, 19) },
  { brand: 'rupay', prefixDigits: 2, from: 60, to: 60, lengths: [16] },
  { brand: 'rupay', prefixDigits: 3, from: 508, to: 508, lengths: [16] },
  // Airline cards (UATP): the only scheme starting with 1, always 15 digits.
  { brand: 'uatp', prefixDigits: 1, from: 1, to: 1, lengths: [15] },
  { brand: 'dankort', prefixDigits: 4, from: 5019, to: 5019, lengths: [16] },
];

const MIN_LENGTH = 12;
const MAX_LENGTH = 19;
const digits = new Uint8Array(MAX_LENGTH);

/** The brand whose range and length accept these digits, if any. */
export function cardBrand(d: ArrayLike<number>, n: number): string | undefined {
  for (const range of ISSUER_RANGES) {
    let prefix = 0;
    for (let i = 0; i < range.prefixDigits; i++) prefix = prefix * 10 + d[i];
    if (prefix >= range.from && prefix <= range.to && range.lengths.includes(n)) return range.brand;
  }
  return undefined;
}

/** Luhn mod-10 over the first n digits. */
export function luhnValid(d: ArrayLike<number>, n: number): boolean {
  let sum = 0;
  let double = false;
  for (let i = n - 1; i >= 0; i--) {
    let v = d[i];
    if (double) {
      v *= 2;
      if (v > 9) v -= 9;
    }
    sum += v;
    double = !double;
  }
  return sum % 10 === 0;
}

/**
 * A card number, optionally grouped with spaces or dashes. Mixed separators
 * (`4111 1111-1111 1111`) are rejected: people and systems format a card
 * one way, while mixed punctuation is what ids and phone numbers look like.
 */
export const luhnCard: Validator = (candidate) => {
  let n = 0;
  let separator = 0;
  for (let i = 0; i < candidate.length; i++) {
    const c = candidate.charCodeAt(i);
    if (c >= 0x30 && c <= 0x39) {
      if (n === MAX_LENGTH) return false;
      digits[n++] = c - 0x30;
    } else if (c === 0x20 || c === 0x2d) {
      if (separator === 0) separator = c;
      else if (separator !== c) return false;
    } else {
      return false;
    }
  }
  if (n < MIN_LENGTH) return false;
  let allSame = true;
  for (let i = 1; i < n && allSame; i++) allSame = digits[i] === digits[0];
  if (allSame) return false;
  if (cardBrand(digits, n) === undefined) return false;
  return luhnValid(digits, n);
};

/**
 * Magnetic-stripe track data (`%B<pan>^NAME^YYMM...?` or `;<pan>=YYMM...?`):
 * the PAN must be a valid card and the expiry month real.
 */
export const cardTrackData: Validator = (candidate) => {
  let i = 0;
  while (i < candidate.length && (candidate.charCodeAt(i) < 0x30 || candidate.charCodeAt(i) > 0x39)) i++;
  const panStart = i;
  while (i < candidate.length && candidate.charCodeAt(i) >= 0x30 && candidate.charCodeAt(i) <= 0x39) i++;
  const panEnd = i;
  if (!luhnCard(candidate.slice(panStart, panEnd))) return false;
  const fieldSep = candidate.charCodeAt(panEnd);
  let expiryAt: number;
  if (fieldSep === 0x3d /* = */) expiryAt = panEnd + 1;
  else if (fieldSep === 0x5e /* ^ */) {
    const nameEnd = candidate.indexOf('^', panEnd + 1);
    if (nameEnd < 0) return false;
    expiryAt = nameEnd + 1;
  } else return false;
  if (expiryAt + 4 > candidate.length) return false;
  const month = (candidate.charCodeAt(expiryAt + 2) - 0x30) * 10 + (candidate.charCodeAt(expiryAt + 3) - 0x30);
  return month >= 1 && month <= 12;
};
