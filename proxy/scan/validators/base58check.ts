// Base58Check (Bitcoin's address and key encoding): base58 digits, then the
// last four bytes must equal the first four of SHA-256(SHA-256(payload)).
import { createHash } from 'node:crypto';

const ALPHABET = '123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz';
const VALUE = new Int8Array(128).fill(-1);
for (let i = 0; i < ALPHABET.length; i++) VALUE[ALPHABET.charCodeAt(i)] = i;

/** Decoded bytes, or undefined for a non-base58 character. */
export function base58Decode(s: string): Uint8Array | undefined {
  let zeros = 0;
  while (zeros < s.length && s.charCodeAt(zeros) === 0x31 /* '1' */) zeros++;
  // log(58)/log(256) ~ 0.733 bytes per character.
  const size = Math.floor(((s.length - zeros) * 733) / 1000) + 1;
  const b = new Uint8Array(size);
  let length = 0;
  for (let i = zeros; i < s.length; i++) {
    const c = s.charCodeAt(i);
    const v = c < 128 ? VALUE[c] : -1;
    if (v < 0) return undefined;
    let carry = v;
    let j = 0;
    for (let k = size - 1; (carry !== 0 || j < length) && k >= 0; k--, j++) {
      carry += 58 * b[k];
      b[k] = carry & 0xff;
      carry >>= 8;
    }
    length = j;
  }
  const out = new Uint8Array(zeros + length);
  out.set(b.subarray(size - length), zeros);
  return out;
}

/** The payload (without checksum) when `s` is valid Base58Check, else undefined. */
export function base58CheckPayload(s: string): Uint8Array | undefined {
  const bytes = base58Decode(s);
  if (!bytes || bytes.length < 5) return undefined;
  const payload = bytes.subarray(0, bytes.length - 4);
  const first = createHash('sha256').update(payload).digest();
  const second = createHash('sha256').update(first).digest();
  for (let i = 0; i < 4; i++) if (second[i] !== bytes[bytes.length - 4 + i]) return undefined;
  return payload;
}
