// Small helpers shared by the numeric-identifier validators: pull the digits
// out of a candidate while enforcing one consistent separator, the same rule
// people and systems follow when they format an identifier.

const scratch = new Uint8Array(32);

/**
 * Copies the digits of `s` into a shared scratch array and returns their
 * count, or -1 when `s` has a character outside digits and `separators`, or
 * (when `consistent`) mixes two different separators. The array is
 * overwritten by the next call.
 */
export function collectDigits(s: string, separators: string, consistent = true): number {
  let n = 0;
  let seen = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c >= 0x30 && c <= 0x39) {
      if (n === scratch.length) return -1;
      scratch[n++] = c - 0x30;
    } else if (separators.indexOf(s[i]) >= 0) {
      if (seen === 0) seen = c;
      else if (consistent && seen !== c) return -1;
    } else {
      return -1;
    }
  }
  return n;
}

/** The digits collected by the last collectDigits call. */
export function collected(): Uint8Array {
  return scratch;
}

/** Whether the first n collected digits are all the same digit. */
export function allSameDigit(d: Uint8Array, n: number): boolean {
  for (let i = 1; i < n; i++) if (d[i] !== d[0]) return false;
  return true;
}

/** The number formed by digits [from, to). */
export function digitValue(d: Uint8Array, from: number, to: number): number {
  let v = 0;
  for (let i = from; i < to; i++) v = v * 10 + d[i];
  return v;
}

/**
 * Whether the first n collected digits pass the Luhn (mod 10) check;
 * `offset` adds the contribution of a fixed prefix (the US NPI's 80840).
 */
export function luhnValid(d: Uint8Array, n: number, offset = 0): boolean {
  let sum = offset;
  for (let i = 0; i < n; i++) {
    let v = d[n - 1 - i];
    if (i % 2 === 1) {
      v *= 2;
      if (v > 9) v -= 9;
    }
    sum += v;
  }
  return sum % 10 === 0;
}

/** Sum of digit[i] * weights[i] over the weights' length. */
export function weightedSum(d: Uint8Array, weights: readonly number[], from = 0): number {
  let s = 0;
  for (let i = 0; i < weights.length; i++) s += d[from + i] * weights[i];
  return s;
}

/** Whether day/month (1-based) form a calendar date in that (4-digit) year. */
export function isDate(year: number, month: number, day: number): boolean {
  if (month < 1 || month > 12 || day < 1) return false;
  const days = [31, year % 4 === 0 && (year % 100 !== 0 || year % 400 === 0) ? 29 : 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];
  return day <= days[month - 1];
}
