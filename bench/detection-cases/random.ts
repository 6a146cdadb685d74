// A seeded generator for the evaluation cases: the same seed gives the same
// cases on every machine, so before/after numbers compare like with like.
// Check-digit arithmetic here is written independently of the validators
// (from the published algorithms), so the harness is an oracle, not a mirror.
import { createHash } from 'node:crypto';

export const DIGITS = '0123456789';
export const UPPER = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ';
export const LOWER = 'abcdefghijklmnopqrstuvwxyz';
export const HEX = '0123456789abcdef';
export const ALNUM = DIGITS + UPPER + LOWER;
export const LOWER_ALNUM = DIGITS + LOWER;
export const UPPER_ALNUM = DIGITS + UPPER;
export const BASE64 = UPPER + LOWER + DIGITS + '+/';
export const BASE64URL = UPPER + LOWER + DIGITS + '-_';
export const BASE32 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';

export class Rng {
  private x: number;
  constructor(seed: number) {
    this.x = seed >>> 0 || 1;
  }
  /** mulberry32: uniform in [0, 1). */
  next(): number {
    let t = (this.x = (this.x + 0x6d2b79f5) >>> 0);
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }
  int(lo: number, hi: number): number {
    return lo + Math.floor(this.next() * (hi - lo + 1));
  }
  pick<T>(items: readonly T[]): T {
    return items[Math.floor(this.next() * items.length)];
  }
  str(alphabet: string, length: number): string {
    let s = '';
    for (let i = 0; i < length; i++) s += alphabet[Math.floor(this.next() * alphabet.length)];
    return s;
  }
  digits(n: number): number[] {
    return Array.from({ length: n }, () => this.int(0, 9));
  }
  uuid(): string {
    const h = this.str(HEX, 32);
    return `${h.slice(0, 8)}-${h.slice(8, 12)}-4${h.slice(13, 16)}-a${h.slice(17, 20)}-${h.slice(20)}`;
  }
}

/** Luhn check digit for a digit string (the payload, without the check digit). */
export function luhnCheckDigit(payload: string): number {
  let sum = 0;
  for (let i = 0; i < payload.length; i++) {
    let d = payload.charCodeAt(payload.length - 1 - i) - 48;
    if (i % 2 === 0) {
      d *= 2;
      if (d > 9) d -= 9;
    }
    sum += d;
  }
  return (10 - (sum % 10)) % 10;
}

/** Remainder of a long decimal string modulo m. */
export function bigMod(digits: string, m: number): number {
  let r = 0;
  for (const c of digits) r = (r * 10 + (c.charCodeAt(0) - 48)) % m;
  return r;
}

export function sha256(data: Uint8Array): Buffer {
  return createHash('sha256').update(data).digest();
}

const B58 = '123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz';

export function base58Check(payload: Uint8Array): string {
  const full = Buffer.concat([Buffer.from(payload), sha256(sha256(payload)).subarray(0, 4)]);
  let n = BigInt('0x' + full.toString('hex'));
  let out = '';
  while (n > 0n) {
    out = B58[Number(n % 58n)] + out;
    n /= 58n;
  }
  for (const b of full) {
    if (b !== 0) break;
    out = '1' + out;
  }
  return out;
}

/** Wraps a secret the ways it appears in config and code. */
export function assignment(rng: Rng, key: string, value: string): string {
  return rng.pick([
    `${key}=${value}`,
    `export ${key.toUpperCase()}="${value}"`,
    `"${key}": "${value}"`,
    `${key}: ${value}`,
    `${key} = '${value}'`,
    `  ${key}: "${value}"\n`,
  ]);
}
