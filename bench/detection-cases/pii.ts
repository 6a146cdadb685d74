// Labelled PII cases per type: valid instances (check digits computed from
// the published algorithms) in the sentences they appear in, and negatives
// of the same shape whose check digit, allocation rule or date is wrong.
import { createHash } from 'node:crypto';
import { ALNUM, DIGITS, HEX, LOWER, LOWER_ALNUM, Rng, UPPER, base58Check, bigMod, luhnCheckDigit } from './random';
import type { CaseFamily } from './types';

const pad = (n: number, w: number): string => String(n).padStart(w, '0');
const digitsOf = (s: string): number[] => [...s].map((c) => c.charCodeAt(0) - 48);
const weighted = (s: string, w: number[]): number => digitsOf(s).reduce((a, d, i) => a + d * w[i], 0);
/** Same string with its last digit changed (a wrong check digit). */
const breakLast = (s: string): string => s.slice(0, -1) + String((Number(s.slice(-1)) + 1 + (s.length % 3)) % 10);

function card(rng: Rng): string {
  const [prefix, len] = rng.pick<[string, number]>([
    ['4', 16], ['51', 16], ['55', 16], ['2221', 16], ['34', 15], ['37', 15], ['6011', 16], ['3530', 16], ['1', 15], ['5019', 16], ['4', 19],
  ]);
  const payload = prefix + rng.str(DIGITS, len - prefix.length - 1);
  return payload + luhnCheckDigit(payload);
}
function formatCard(rng: Rng, n: string): string {
  const sep = rng.pick(['', ' ', '-']);
  if (!sep || n.length === 19) return n;
  if (n.length === 15) return [n.slice(0, 4), n.slice(4, 10), n.slice(10)].join(sep);
  return n.match(/.{4}/g)!.join(sep);
}

function iban(rng: Rng, valid: boolean): string {
  const [cc, bban] = rng.pick<[string, () => string]>([
    ['DE', () => rng.str(DIGITS, 18)],
    ['GB', () => rng.str(UPPER, 4) + rng.str(DIGITS, 14)],
    ['NL', () => rng.str(UPPER, 4) + rng.str(DIGITS, 10)],
    ['ES', () => rng.str(DIGITS, 20)],
    ['FR', () => rng.str(DIGITS, 23)],
  ]);
  const b = bban();
  const numeric = (b + cc + '00').replace(/[A-Z]/g, (c) => String(c.charCodeAt(0) - 55));
  let check = 98 - bigMod(numeric, 97);
  if (!valid) check = (check % 97) + 1;
  const s = cc + pad(check, 2) + b;
  return rng.next() < 0.5 ? s : s.match(/.{1,4}/g)!.join(' ');
}

function ssn(rng: Rng): [string, string, string] {
  let area = rng.int(1, 899);
  if (area === 666) area = 665;
  return [pad(area, 3), pad(rng.int(1, 99), 2), pad(rng.int(1, 9999), 4)];
}

const VERHOEFF_D = [
  [0, 1, 2, 3, 4, 5, 6, 7, 8, 9], [1, 2, 3, 4, 0, 6, 7, 8, 9, 5], [2, 3, 4, 0, 1, 7, 8, 9, 5, 6], [3, 4, 0, 1, 2, 8, 9, 5, 6, 7], [4, 0, 1, 2, 3, 9, 5, 6, 7, 8],
  [5, 9, 8, 7, 6, 0, 4, 3, 2, 1], [6, 5, 9, 8, 7, 1, 0, 4, 3, 2], [7, 6, 5, 9, 8, 2, 1, 0, 4, 3], [8, 7, 6, 5, 9, 3, 2, 1, 0, 4], [9, 8, 7, 6, 5, 4, 3, 2, 1, 0],
];
const VERHOEFF_P = [
  [0, 1, 2, 3, 4, 5, 6, 7, 8, 9], [1, 5, 7, 6, 2, 8, 3, 0, 9, 4], [5, 8, 0, 3, 7, 9, 6, 1, 4, 2], [8, 9, 1, 6, 0, 4, 3, 5, 2, 7],
  [9, 4, 5, 3, 1, 2, 6, 8, 7, 0], [4, 2, 8, 6, 5, 7, 3, 9, 0, 1], [2, 7, 9, 3, 8, 0, 6, 4, 1, 5], [7, 0, 4, 6, 9, 1, 3, 2, 5, 8],
];
const VERHOEFF_INV = [0, 4, 3, 2, 1, 5, 6, 7, 8, 9];
function verhoeffCheck(payload: string): number {
  let c = 0;
  const d = digitsOf(payload).reverse();
  for (let i = 0; i < d.length; i++) c = VERHOEFF_D[c][VERHOEFF_P[(i + 1) % 8][d[i]]];
  return VERHOEFF_INV[c];
}

function date(rng: Rng): { y: number; m: number; d: number } {
  return { y: rng.int(1940, 2015), m: rng.int(1, 12), d: rng.int(1, 28) };
}

// --- per-type generators: valid value, and an invalid one of the same shape
export type Gen = (rng: Rng, valid: boolean) => string;

const usItin: Gen = (rng, valid) => {
  const group = valid ? rng.pick([50, 55, 65, 70, 78, 88, 90, 92, 94, 99]) : rng.pick([10, 35, 45, 69, 93]);
  return `9${rng.str(DIGITS, 2)}-${group}-${rng.str(DIGITS, 4)}`;
};
const ukNhs: Gen = (rng, valid) => {
  for (;;) {
    const p = rng.str(DIGITS, 9);
    let c = 11 - (weighted(p, [10, 9, 8, 7, 6, 5, 4, 3, 2]) % 11);
    if (c === 11) c = 0;
    if (c === 10) continue;
    const s = p + (valid ? c : (c + 3) % 10);
    return rng.next() < 0.5 ? s : `${s.slice(0, 3)} ${s.slice(3, 6)} ${s.slice(6)}`;
  }
};
const inPan: Gen = (rng, valid) => rng.str(UPPER, 3) + (valid ? rng.pick([...'PCHFATBLJG']) : rng.pick([...'DEIKMNOQRSUVWXYZ'])) + rng.str(UPPER, 1) + rng.str(DIGITS, 4) + rng.str(UPPER, 1);
const sgNric: Gen = (rng, valid) => {
  const prefix = rng.pick(['S', 'T', 'F', 'G']);
  const d = rng.str(DIGITS, 7);
  let sum = weighted(d, [2, 7, 6, 5, 4, 3, 2]);
  if (prefix === 'T' || prefix === 'G') sum += 4;
  const table = prefix === 'S' || prefix === 'T' ? 'JZIHGFEDCBA' : 'XWUTRQPNMLK';
  const i = sum % 11;
  return prefix + d + (valid ? table[i] : table[(i + 1) % 11]);
};
const auTfn: Gen = (rng, valid) => {
  for (;;) {
    const s = rng.str(DIGITS, 9);
    const ok = weighted(s, [1, 4, 3, 7, 5, 8, 6, 9, 10]) % 11 === 0;
    if (ok === valid) return rng.next() < 0.5 ? s : `${s.slice(0, 3)} ${s.slice(3, 6)} ${s.slice(6)}`;
  }
};
const auMedicare: Gen = (rng, valid) => {
  const p = String(rng.int(2, 6)) + rng.str(DIGITS, 7);
  const c = weighted(p, [1, 3, 7, 9, 1, 3, 7, 9]) % 10;
  const s = p + (valid ? c : (c + 1) % 10) + String(rng.int(1, 9));
  return rng.next() < 0.5 ? s : `${s.slice(0, 4)} ${s.slice(4, 9)} ${s.slice(9)}`;
};
const plPesel: Gen = (rng, valid) => {
  const { y, m, d } = date(rng);
  const p = pad(y % 100, 2) + pad(m + (y >= 2000 ? 20 : 0), 2) + pad(d, 2) + rng.str(DIGITS, 4);
  const c = (10 - (weighted(p, [1, 3, 7, 9, 1, 3, 7, 9, 1, 3]) % 10)) % 10;
  return p + (valid ? c : (c + 1) % 10);
};
const sePnr: Gen = (rng, valid) => {
  const { y, m, d } = date(rng);
  const p = pad(y % 100, 2) + pad(m, 2) + pad(d, 2) + rng.str(DIGITS, 3);
  const c = luhnCheckDigit(p);
  const s = p + (valid ? c : (c + 1) % 10);
  return rng.pick([`${s.slice(0, 6)}-${s.slice(6)}`, `${y}${s.slice(2, 6)}-${s.slice(6)}`]);
};
const fiHetu: Gen = (rng, valid) => {
  const { y, m, d } = date(rng);
  const n = rng.int(2, 899);
  const base = pad(d, 2) + pad(m, 2) + pad(y % 100, 2);
  const chars = '0123456789ABCDEFHJKLMNPRSTUVWXY';
  const i = Number(base + pad(n, 3)) % 31;
  return base + (y >= 2000 ? 'A' : '-') + pad(n, 3) + chars[valid ? i : (i + 1) % 31];
};
const beNrn: Gen = (rng, valid) => {
  const { y, m, d } = date(rng);
  const p = pad(y % 100, 2) + pad(m, 2) + pad(d, 2) + pad(rng.int(1, 997), 3);
  let c = 97 - (Number((y >= 2000 ? '2' : '') + p) % 97);
  if (!valid) c = (c % 97) + 1;
  return `${p.slice(0, 2)}.${p.slice(2, 4)}.${p.slice(4, 6)}-${p.slice(6)}.${pad(c, 2)}`;
};
const caSin: Gen = (rng, valid) => {
  const p = String(rng.pick([1, 2, 3, 4, 5, 6, 7, 9])) + rng.str(DIGITS, 7);
  const c = luhnCheckDigit(p);
  const s = p + (valid ? c : (c + 1) % 10);
  return rng.next() < 0.5 ? `${s.slice(0, 3)}-${s.slice(3, 6)}-${s.slice(6)}` : `${s.slice(0, 3)} ${s.slice(3, 6)} ${s.slice(6)}`;
};
const cnRic: Gen = (rng, valid) => {
  const { y, m, d } = date(rng);
  const p = String(rng.int(11, 65)) + rng.str(DIGITS, 4) + y + pad(m, 2) + pad(d, 2) + rng.str(DIGITS, 3);
  const i = weighted(p, [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2]) % 11;
  return p + '10X98765432'[valid ? i : (i + 1) % 11];
};
const krRrn: Gen = (rng, valid) => {
  const { y, m, d } = date(rng);
  const p = pad(y % 100, 2) + pad(m, 2) + pad(d, 2) + String(y >= 2000 ? rng.int(3, 4) : rng.int(1, 2)) + rng.str(DIGITS, 5);
  const c = (11 - (weighted(p, [2, 3, 4, 5, 6, 7, 8, 9, 2, 3, 4, 5]) % 11)) % 10;
  const s = p + (valid ? c : (c + 1) % 10);
  return `${s.slice(0, 6)}-${s.slice(6)}`;
};
const usAba: Gen = (rng, valid) => {
  const p = pad(rng.pick([1, 2, 5, 11, 12, 21, 26, 31, 32, 61, 67, 72]), 2) + rng.str(DIGITS, 6);
  const w = [3, 7, 1, 3, 7, 1, 3, 7];
  const c = (10 - (weighted(p, w) % 10)) % 10;
  return p + (valid ? c : (c + 1) % 10);
};
const roCnp: Gen = (rng, valid) => {
  const { y, m, d } = date(rng);
  const p = String(y >= 2000 ? rng.int(5, 6) : rng.int(1, 2)) + pad(y % 100, 2) + pad(m, 2) + pad(d, 2) + pad(rng.int(1, 46), 2) + rng.str(DIGITS, 3);
  let c = weighted(p, [2, 7, 9, 1, 4, 6, 3, 5, 8, 2, 7, 9]) % 11;
  if (c === 10) c = 1;
  return p + (valid ? c : (c + 1) % 10);
};
const ptNif: Gen = (rng, valid) => {
  const p = String(rng.pick([1, 2, 3])) + rng.str(DIGITS, 7);
  let c = 11 - (weighted(p, [9, 8, 7, 6, 5, 4, 3, 2]) % 11);
  if (c >= 10) c = 0;
  return p + (valid ? c : (c + 1) % 10);
};
const iePps: Gen = (rng, valid) => {
  const p = rng.str(DIGITS, 7);
  const i = weighted(p, [8, 7, 6, 5, 4, 3, 2]) % 23;
  const letters = 'WABCDEFGHIJKLMNOPQRSTUV';
  return p + letters[valid ? i : (i + 1) % 23];
};
const auAbn: Gen = (rng, valid) => {
  // Two leading check digits make the weighted sum (first digit less one) a multiple of 89.
  for (;;) {
    const body = rng.str(DIGITS, 9);
    for (let c = 10; c < 100; c++) {
      const s = String(c) + body;
      if ((weighted(s, [10, 1, 3, 5, 7, 9, 11, 13, 15, 17, 19]) - 10) % 89 !== 0) continue;
      const v = valid ? s : breakLast(s);
      return rng.next() < 0.5 ? v : `${v.slice(0, 2)} ${v.slice(2, 5)} ${v.slice(5, 8)} ${v.slice(8)}`;
    }
  }
};
const auAcn: Gen = (rng, valid) => {
  const p = rng.str(DIGITS, 8);
  const c = (10 - (weighted(p, [8, 7, 6, 5, 4, 3, 2, 1]) % 10)) % 10;
  const s = p + (valid ? c : (c + 1) % 10);
  return rng.next() < 0.5 ? s : `${s.slice(0, 3)} ${s.slice(3, 6)} ${s.slice(6)}`;
};
const itPartitaIva: Gen = (rng, valid) => {
  const p = String(rng.int(0, 9)) + rng.str(DIGITS, 6) + pad(rng.pick([rng.int(1, 100), 120, 121]), 3);
  const c = luhnCheckDigit(p);
  return (rng.next() < 0.3 ? 'IT' : '') + p + (valid ? c : (c + 1) % 10);
};
/** US driver's licences in a few states' shapes; invalid: shapes no state issues. */
const usDriversLicense: Gen = (rng, valid) => {
  if (!valid) return rng.pick([rng.str(UPPER, 3) + rng.str(DIGITS, 2), rng.str(DIGITS, 20), rng.str(DIGITS, 4) + rng.str(UPPER, 4), rng.str(UPPER, 8)]);
  // Numbers are drawn again when they look like a placeholder (a digit five times, 123456): the detector refuses those by design.
  for (;;) {
    const v = rng.pick([
      () => rng.str(UPPER, 1) + rng.str(DIGITS, 7), // CA
      () => { const d = rng.str(UPPER, 1) + rng.str(DIGITS, 12); return rng.next() < 0.5 ? d : `${d.slice(0, 4)}-${d.slice(4, 7)}-${d.slice(7, 9)}-${d.slice(9, 12)}-${d.slice(12)}`; }, // FL
      () => rng.str(DIGITS, 9), // NY
      () => String(rng.int(1, 4)) + rng.str(DIGITS, 7), // TX
      () => rng.str(DIGITS, 2) + rng.str(UPPER, 3) + rng.str(DIGITS, 5), // NH
      () => rng.str(DIGITS, 3) + rng.str(UPPER, 2) + rng.str(DIGITS, 4), // IA
      () => 'WDL' + rng.str(DIGITS + UPPER, 9), // WA
    ])();
    const digits = v.replace(/[^0-9]/g, '');
    if (/([0-9])\1{4}/.test(digits) || /012345|123456|234567|345678|456789/.test(digits) || digits.length < 4) continue;
    return v;
  }
};
const MONTH_DAYS = [31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];
/** DVLA numbers; invalid ones carry a day their month does not have. */
const ukDrivingLicence: Gen = (rng, valid) => {
  const surname = rng.str(UPPER, rng.int(2, 5)).padEnd(5, '9');
  const month = rng.int(1, 12);
  const day = valid ? rng.int(1, MONTH_DAYS[month - 1]) : MONTH_DAYS[month - 1] + 1 + (month === 2 ? 1 : 0);
  const monthCode = pad(month + (rng.next() < 0.5 ? 50 : 0), 2);
  const initials = rng.str(UPPER, 1) + (rng.next() < 0.3 ? '9' : rng.str(UPPER, 1));
  return surname + rng.str(DIGITS, 1) + monthCode + pad(day, 2) + rng.str(DIGITS, 1) + initials + rng.str(DIGITS, 1) + rng.str(UPPER, 2);
};
const usDea: Gen = (rng, valid) => {
  const d = rng.str(DIGITS, 6);
  const [a, b, c, e, f, g] = digitsOf(d);
  const check = (a + c + f + 2 * (b + e + g)) % 10;
  return rng.pick([...'ABFGMPX']) + rng.pick([...'ABCDHKLMRSW9']) + d + (valid ? check : (check + 3) % 10);
};
const usNpi: Gen = (rng, valid) => {
  const p = String(rng.int(1, 2)) + rng.str(DIGITS, 8);
  const c = luhnCheckDigit('80840' + p);
  return p + (valid ? c : (c + 1) % 10);
};
const esDni: Gen = (rng, valid) => {
  const n = rng.int(10000000, 99999999);
  const letters = 'TRWAGMYFPDXBNJZSQVHLCKE';
  return String(n) + letters[valid ? n % 23 : (n + 1) % 23];
};
const nlBsn: Gen = (rng, valid) => {
  for (;;) {
    const s = String(rng.int(1, 9)) + rng.str(DIGITS, 8);
    const ok = weighted(s, [9, 8, 7, 6, 5, 4, 3, 2, -1]) % 11 === 0;
    if (ok === valid) return s;
  }
};
const brCpf: Gen = (rng, valid) => {
  const p = rng.str(DIGITS, 9);
  const c1 = ((weighted(p, [10, 9, 8, 7, 6, 5, 4, 3, 2]) * 10) % 11) % 10;
  const c2 = ((weighted(p + c1, [11, 10, 9, 8, 7, 6, 5, 4, 3, 2]) * 10) % 11) % 10;
  const s = p + c1 + (valid ? c2 : (c2 + 1) % 10);
  return `${s.slice(0, 3)}.${s.slice(3, 6)}.${s.slice(6, 9)}-${s.slice(9)}`;
};
const inAadhaar: Gen = (rng, valid) => {
  const p = String(rng.int(2, 9)) + rng.str(DIGITS, 10);
  const c = verhoeffCheck(p);
  const s = p + (valid ? c : (c + 1) % 10);
  return `${s.slice(0, 4)} ${s.slice(4, 8)} ${s.slice(8)}`;
};
const NINO_FIRST = 'ABCEGHJKLMNOPRSTWXYZ';
const NINO_SECOND = 'ABCEGHJKLMNPRSTWXYZ';
const ukNino: Gen = (rng, valid) => {
  let prefix = rng.pick([...NINO_FIRST]) + rng.pick([...NINO_SECOND]);
  if (['BG', 'GB', 'KN', 'NK', 'NT', 'TN', 'ZZ'].includes(prefix)) prefix = 'AB';
  if (!valid) prefix = rng.pick(['QQ', 'GB', 'DA', 'FY', 'ZZ']);
  const d = rng.str(DIGITS, 6);
  const suffix = rng.pick([...'ABCD']);
  const s = rng.pick([`${prefix}${d}${suffix}`, `${prefix} ${d.slice(0, 2)} ${d.slice(2, 4)} ${d.slice(4)} ${suffix}`]);
  return rng.next() < 0.3 ? s.toLowerCase() : s;
};
const email: Gen = (rng, valid) =>
  valid
    ? `${rng.str(LOWER, rng.int(3, 8))}.${rng.str(LOWER, rng.int(3, 9))}${rng.int(0, 99)}@${rng.pick(['gmail.com', 'outlook.com', 'acme.co.uk', 'mail.de', 'corp.io'])}`
    : rng.pick(['logo@2x.png', 'npm i @scope/pkg@1.2.3', 'user@', '@example.com', 'git@', `x@${rng.int(1, 9)}`]);
const btc: Gen = (rng, valid) => {
  const s = base58Check(Uint8Array.from([0, ...Array.from({ length: 20 }, () => rng.int(0, 255))]));
  return valid ? s : s.slice(0, -1) + (s.endsWith('z') ? 'y' : 'z');
};
const eth: Gen = (rng, valid) => (valid ? '0x' + rng.str(HEX, 40) : '0x' + rng.str(HEX, 40).replace(/[a-f]/g, (c) => (rng.next() < 0.5 ? c.toUpperCase() : c)));
const phone: Gen = (rng, valid) =>
  valid
    ? rng.pick([
        `+1 ${rng.pick(['212', '415', '646', '312'])} ${rng.int(201, 989)} ${pad(rng.int(0, 9999), 4)}`,
        `+44 20 7946 0${pad(rng.int(0, 999), 3)}`,
        `+49 30 ${rng.int(2000000, 9999999)}${rng.int(0, 9)}`,
        `+33 6 ${pad(rng.int(0, 99), 2)} ${pad(rng.int(0, 99), 2)} ${pad(rng.int(0, 99), 2)} ${pad(rng.int(0, 99), 2)}`,
        `+91 98${rng.str(DIGITS, 3)} ${rng.str(DIGITS, 5)}`,
      ])
    : rng.pick(['+1 123 456 7890', '+44 20 1234', '+49 000 1', '+0 123456789', `+1 555 ${rng.int(100, 999)}`, `+999 ${rng.str(DIGITS, 9)}`]);
const ipv4 = (rng: Rng): string => `${rng.int(11, 223)}.${rng.int(0, 255)}.${rng.int(0, 255)}.${rng.int(1, 254)}`;
const ip: Gen = (rng, valid) =>
  valid
    ? rng.pick([ipv4(rng), `2001:db8:${rng.str(HEX, 4)}:${rng.str(HEX, 4)}::${rng.str(HEX, 3)}`, `fe80::${rng.str(HEX, 4)}:${rng.str(HEX, 4)}:${rng.str(HEX, 4)}:${rng.str(HEX, 4)}`])
    : rng.pick([`${rng.int(1, 9)}.${rng.int(0, 9)}.${rng.int(0, 9)}.${rng.int(0, 9)}.${rng.int(0, 9)}`, `${rng.int(256, 999)}.${rng.int(0, 255)}.1.2`, '1.3.6.1.4.1.311', `v${rng.int(1, 9)}.${rng.int(0, 9)}.${rng.int(0, 9)}`]);
const mac: Gen = (rng, valid) => {
  const h = rng.str(HEX, 12);
  const bytes = h.match(/../g)!;
  return valid
    ? rng.pick([bytes.join(':'), bytes.join('-').toUpperCase(), `${h.slice(0, 4)}.${h.slice(4, 8)}.${h.slice(8)}`])
    : rng.pick([`${pad(rng.int(0, 23), 2)}:${pad(rng.int(0, 59), 2)}:${pad(rng.int(0, 59), 2)}`, bytes.slice(0, 5).join(':'), 'fe80::1', `${bytes.join(':')}:${rng.str(HEX, 2)}:${rng.str(HEX, 2)}`]);
};

function ssnPositive(rng: Rng): string {
  const [a, g, s] = ssn(rng);
  return rng.pick([`SSN: ${a}-${g}-${s}`, `ssn ${a}${g}${s}`, `social security number: ${a}.${g}.${s}`, `SSN# ${a} ${g} ${s}`, `Social Security No. ${a}-${g}-${s}`]);
}
function ssnNegative(rng: Rng): string {
  const [, g, s] = ssn(rng);
  return rng.pick([`SSN: 000-${g}-${s}`, `ssn: 666-${g}-${s}`, `SSN 9${rng.int(10, 99)}-${g}-${s}`, `ssn: 078-05-1120`, `order number ${rng.int(100, 899)}.${g}.${s}`, `SSN: 123-00-4567`]);
}

/** Bare-value generators by validator name, for property tests of the validators. */
export const ID_GENERATORS: Readonly<Record<string, Gen>> = {
  'us-itin': usItin,
  'us-npi': usNpi,
  'us-aba-routing': usAba,
  'ca-sin': caSin,
  'uk-nhs-number': ukNhs,
  'pl-pesel': plPesel,
  'se-personnummer': sePnr,
  'fi-hetu': fiHetu,
  'be-national-number': beNrn,
  'ro-cnp': roCnp,
  'pt-nif': ptNif,
  'ie-pps': iePps,
  'in-pan': inPan,
  'sg-nric': sgNric,
  'au-tfn': auTfn,
  'au-medicare': auMedicare,
  'cn-resident-id': cnRic,
  'kr-rrn': krRrn,
  'uk-nino': ukNino,
  'es-dni': esDni,
  'nl-bsn': nlBsn,
  'br-cpf': brCpf,
  'in-aadhaar': inAadhaar,
  'au-abn': auAbn,
  'au-acn': auAcn,
  'it-partita-iva': itPartitaIva,
  'us-drivers-license': usDriversLicense,
  'uk-driving-licence': ukDrivingLicence,
  'us-dea-number': usDea,
  'ip-address': ip,
  'mac-address': mac,
};

/** A PII family: one detector id, keyword sentences around generated values. */
function family(name: string, detector: string, gen: Gen, contexts: string[], optIn = false): CaseFamily {
  return {
    family: name,
    category: 'pii',
    detectors: [detector],
    optIn,
    positive: (rng) => rng.pick(contexts).replace('{}', gen(rng, true)),
    negative: (rng) => rng.pick(contexts).replace('{}', gen(rng, false)),
  };
}

export const PII_FAMILIES: CaseFamily[] = [
  {
    family: 'card',
    category: 'pii',
    // UATP (prefix 1) is its own opt-in detector; the evaluation runs with every detector on.
    detectors: ['pci.card-number', 'pci.uatp-card-number'],
    positive: (rng) => rng.pick(['card: {}', 'Card number {} exp 12/29', '"pan":"{}"', 'paid with {}']).replace('{}', formatCard(rng, card(rng))),
    negative: (rng) => rng.pick(['card: {}', 'order {}', 'tracking {}']).replace('{}', formatCard(rng, breakLast(card(rng)))),
  },
  family('iban', 'pii.iban', iban, ['IBAN: {}', 'pay to {} by Friday', '"iban": "{}"']),
  { family: 'us-ssn', category: 'pii', detectors: ['pii.us-ssn'], positive: ssnPositive, negative: ssnNegative },
  family('email', 'pii.email', email, ['contact: {}', 'From: {}', '"email": "{}"']),
  family('uk-nino', 'pii.uk-nino', ukNino, ['NI number: {}', 'nino {}', 'National Insurance: {}']),
  family('phone', 'pii.phone-number', phone, ['call me on {}', 'phone: {}', 'Tel. {}'], true),
  family('ip-address', 'pii.ip-address', ip, ['client {} connected', 'ip: {}', 'X-Forwarded-For: {}'], true),
  family('mac-address', 'pii.mac-address', mac, ['hw addr {}', 'mac: {}', 'device {} joined'], true),
  family('btc-address', 'pii.btc-address', btc, ['send to {}', 'btc: {}']),
  family('eth-address', 'pii.eth-address', eth, ['wallet {}', 'eth: {}']),
  family('es-dni', 'pii.es-dni', esDni, ['DNI: {}', 'nif {}']),
  family('nl-bsn', 'pii.nl-bsn', nlBsn, ['BSN: {}', 'burgerservicenummer {}'], true),
  family('br-cpf', 'pii.br-cpf', brCpf, ['CPF: {}', 'cpf {}']),
  family('in-aadhaar', 'pii.in-aadhaar', inAadhaar, ['Aadhaar: {}', 'aadhaar no {}'], true),
  family('us-itin', 'pii.us-itin', usItin, ['ITIN: {}', 'taxpayer identification number {}']),
  family('us-npi', 'pii.us-npi', usNpi, ['NPI: {}', 'provider npi {}']),
  family('us-aba-routing', 'pii.us-aba-routing', usAba, ['routing number: {}', 'ABA {}', 'RTN {}']),
  family('uk-nhs', 'pii.uk-nhs-number', ukNhs, ['NHS number: {}', 'nhs no {}']),
  family('in-pan', 'pii.in-pan', inPan, ['PAN: {}', 'pan card {}']),
  family('sg-nric', 'pii.sg-nric', sgNric, ['NRIC: {}', 'fin {}', 'IC {}']),
  family('au-tfn', 'pii.au-tfn', auTfn, ['TFN: {}', 'tax file number {}']),
  family('au-medicare', 'pii.au-medicare', auMedicare, ['Medicare: {}', 'medicare card {}']),
  family('pl-pesel', 'pii.pl-pesel', plPesel, ['PESEL: {}', 'pesel {}']),
  family('se-personnummer', 'pii.se-personnummer', sePnr, ['personnummer: {}', 'Personnr {}']),
  family('fi-hetu', 'pii.fi-hetu', fiHetu, ['HETU: {}', 'henkilötunnus {}']),
  family('be-national-number', 'pii.be-national-number', beNrn, ['rijksregisternummer: {}', 'NN {}', 'numéro national {}']),
  family('ca-sin', 'pii.ca-sin', caSin, ['SIN: {}', 'social insurance number {}']),
  family('cn-resident-id', 'pii.cn-resident-id', cnRic, ['身份证: {}', 'resident id {}', 'ID card {}']),
  family('kr-rrn', 'pii.kr-rrn', krRrn, ['RRN: {}', '주민등록번호 {}']),
  family('ro-cnp', 'pii.ro-cnp', roCnp, ['CNP: {}', 'cod numeric personal {}']),
  family('pt-nif', 'pii.pt-nif', ptNif, ['NIF: {}', 'contribuinte {}']),
  family('ie-pps', 'pii.ie-pps', iePps, ['PPS number: {}', 'PPSN {}']),
  family('au-abn', 'pii.au-abn', auAbn, ['ABN: {}', 'Australian Business Number {}']),
  family('au-acn', 'pii.au-acn', auAcn, ['ACN: {}', 'australian company number {}']),
  family('it-partita-iva', 'pii.it-partita-iva', itPartitaIva, ['Partita IVA: {}', 'P.IVA {}', 'VAT number {}']),
  family('us-drivers-license', 'pii.us-drivers-license', usDriversLicense, ["Driver's License: {}", 'DL# {}', 'driver license number {}']),
  family('uk-driving-licence', 'pii.uk-driving-licence', ukDrivingLicence, ['driving licence {}', 'licence no. {}', '{}']),
  family('us-dea-number', 'pii.us-dea-number', usDea, ['DEA: {}', 'prescriber DEA number {}', 'dea# {}', '{}']),
  {
    family: 'benign-pii',
    category: 'pii',
    detectors: [],
    positive: undefined,
    negative: (rng) =>
      rng.pick([
        () => `order #${rng.str(DIGITS, 8)} shipped ${rng.int(1, 28)}/0${rng.int(1, 9)}/2024`,
        () => `invoice total ${rng.int(10, 999)}.${pad(rng.int(0, 99), 2)} EUR`,
        () => `build ${rng.int(1000, 9999)} took ${rng.int(1, 600)}s`,
        () => `id=${rng.str(LOWER_ALNUM, 12)} ts=${1700000000 + rng.int(0, 1e7)}`,
        () => `sku ${rng.str(UPPER, 3)}-${rng.str(DIGITS, 5)}`,
        () => `color #${rng.str(HEX, 6)}; width: ${rng.int(1, 999)}px`,
        () => `hash ${createHash('md5').update(String(rng.next())).digest('hex')}`,
        () => `${rng.str(ALNUM, 20)}`,
      ])(),
  },
];
