// Builders for the library's examples. Token-shaped examples are generated
// (deterministically, from a seed) rather than written out, so the source
// never contains a literal that looks like a live credential: the repo must
// not trip secret scanners, ours included. Nothing here is a real secret.
import { crc32 } from 'node:zlib';
import { base62Checksum } from '../validators/vendor-token';

export const BASE62 = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz';
export const HEX = '0123456789abcdef';
export const HEX_UPPER = '0123456789ABCDEF';
export const DIGITS = '0123456789';
export const UPPER_ALNUM = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ';
export const LOWER_ALNUM = '0123456789abcdefghijklmnopqrstuvwxyz';
export const LETTERS = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz';
export const BASE64 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';
export const BASE64URL = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
export const BASE32 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';

/** Deterministic pseudo-random string: same seed, same string, on every machine. */
export function synth(seed: string, alphabet: string, length: number): string {
  // FNV-1a of the seed, then xorshift32.
  let x = 0x811c9dc5;
  for (let i = 0; i < seed.length; i++) x = Math.imul(x ^ seed.charCodeAt(i), 0x01000193) >>> 0;
  if (x === 0) x = 1;
  let out = '';
  for (let i = 0; i < length; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    x >>>= 0;
    out += alphabet[x % alphabet.length];
  }
  return out;
}

/** A GitHub/npm-format token (prefix, 30 random chars, CRC32 checksum). */
export function checksummedToken(prefix: string, seed: string): string {
  const body = synth(seed, BASE62, 30);
  return prefix + body + base62Checksum(crc32(body));
}

/** The same token with its checksum broken: right shape, wrong digits. */
export function badChecksumToken(prefix: string, seed: string): string {
  const good = checksummedToken(prefix, seed);
  const last = good[good.length - 1];
  return good.slice(0, -1) + (last === 'A' ? 'B' : 'A');
}

const b64url = (s: string): string => Buffer.from(s, 'utf8').toString('base64url');

/** A JWS with the given header and claims and a synthetic signature. */
export function jwtOf(header: object, claims: object, seed: string, signatureChars = 43): string {
  return `${b64url(JSON.stringify(header))}.${b64url(JSON.stringify(claims))}.${synth(seed, BASE64URL, signatureChars)}`;
}

/** Base64 of `user:password`, as in an Authorization: Basic header. */
export function basicCredentials(user: string, password: string): string {
  return Buffer.from(`${user}:${password}`, 'latin1').toString('base64');
}

/**
 * A PEM block whose body is synthetic base64 starting like DER
 * (`MII...`) in 64-char lines; `eol` lets examples use JSON-escaped `\n`.
 */
export function pemBlock(label: string, seed: string, bodyChars = 900, eol = '\n', bodyPrefix = 'MII'): string {
  const body = bodyPrefix + synth(seed, BASE64, bodyChars - bodyPrefix.length);
  const lines: string[] = [];
  for (let i = 0; i < body.length; i += 64) lines.push(body.slice(i, i + 64));
  return `-----BEGIN ${label}-----${eol}${lines.join(eol)}${eol}-----END ${label}-----`;
}
