// Bech32 (BIP-173) and Bech32m (BIP-350) checksums, used by segwit
// addresses and by age secret keys. Only verification is needed here.

const CHARSET = 'qpzry9x8gf2tvdw0s3jn54khce6mua7l';
const VALUE = new Int8Array(128).fill(-1);
for (let i = 0; i < CHARSET.length; i++) {
  VALUE[CHARSET.charCodeAt(i)] = i;
  VALUE[CHARSET.toUpperCase().charCodeAt(i)] = i;
}
const GENERATOR = [0x3b6a57b2, 0x26508e6d, 0x1ea119fa, 0x3d4233dd, 0x2a1462b3];
const BECH32_CONST = 1;
const BECH32M_CONST = 0x2bc830a3;

export type Bech32Encoding = 'bech32' | 'bech32m';

export interface Bech32Decoded {
  encoding: Bech32Encoding;
  /** Human-readable part, lower-cased. */
  hrp: string;
  /** 5-bit data values, checksum excluded. */
  data: number[];
}

function polymodStep(chk: number, value: number): number {
  const top = chk >>> 25;
  chk = ((chk & 0x1ffffff) << 5) ^ value;
  for (let i = 0; i < 5; i++) if ((top >>> i) & 1) chk ^= GENERATOR[i];
  return chk;
}

/** Decode and verify; undefined when the string is not valid bech32/bech32m. */
export function bech32Decode(s: string, maxLength = 90): Bech32Decoded | undefined {
  if (s.length < 8 || s.length > maxLength) return undefined;
  let hasLower = false;
  let hasUpper = false;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 33 || c > 126) return undefined;
    if (c >= 0x61 && c <= 0x7a) hasLower = true;
    else if (c >= 0x41 && c <= 0x5a) hasUpper = true;
  }
  if (hasLower && hasUpper) return undefined;
  const sep = s.lastIndexOf('1');
  if (sep < 1 || sep + 7 > s.length) return undefined;
  const hrp = s.slice(0, sep).toLowerCase();
  let chk = 1;
  for (let i = 0; i < hrp.length; i++) chk = polymodStep(chk, hrp.charCodeAt(i) >>> 5);
  chk = polymodStep(chk, 0);
  for (let i = 0; i < hrp.length; i++) chk = polymodStep(chk, hrp.charCodeAt(i) & 31);
  const data: number[] = [];
  for (let i = sep + 1; i < s.length; i++) {
    const c = s.charCodeAt(i);
    const v = c < 128 ? VALUE[c] : -1;
    if (v < 0) return undefined;
    chk = polymodStep(chk, v);
    data.push(v);
  }
  chk >>>= 0;
  const encoding = chk === BECH32_CONST ? 'bech32' : chk === BECH32M_CONST ? 'bech32m' : undefined;
  if (!encoding) return undefined;
  data.length -= 6;
  return { encoding, hrp, data };
}

/** Regroup 5-bit values into bytes; undefined if the padding is not canonical. */
export function fiveToEightBits(values: readonly number[], from: number): Uint8Array | undefined {
  const out = new Uint8Array(Math.floor(((values.length - from) * 5) / 8));
  let acc = 0;
  let bits = 0;
  let n = 0;
  for (let i = from; i < values.length; i++) {
    acc = (acc << 5) | values[i];
    bits += 5;
    if (bits >= 8) {
      bits -= 8;
      out[n++] = (acc >>> bits) & 0xff;
    }
  }
  if (bits >= 5 || ((acc << (8 - bits)) & 0xff) !== 0) return undefined;
  return out;
}

/** Encode 5-bit values with a checksum (used to build examples and test vectors). */
export function bech32Encode(hrp: string, data: readonly number[], encoding: Bech32Encoding): string {
  const lower = hrp.toLowerCase();
  let chk = 1;
  for (let i = 0; i < lower.length; i++) chk = polymodStep(chk, lower.charCodeAt(i) >>> 5);
  chk = polymodStep(chk, 0);
  for (let i = 0; i < lower.length; i++) chk = polymodStep(chk, lower.charCodeAt(i) & 31);
  for (const v of data) chk = polymodStep(chk, v);
  for (let i = 0; i < 6; i++) chk = polymodStep(chk, 0);
  chk = (chk ^ (encoding === 'bech32' ? BECH32_CONST : BECH32M_CONST)) >>> 0;
  let out = lower + '1';
  for (const v of data) out += CHARSET[v];
  for (let i = 0; i < 6; i++) out += CHARSET[(chk >>> (5 * (5 - i))) & 31];
  return out;
}

/** Regroup bytes into 5-bit values, zero-padding the last group. */
export function eightToFiveBits(bytes: Uint8Array): number[] {
  const out: number[] = [];
  let acc = 0;
  let bits = 0;
  for (const b of bytes) {
    acc = ((acc << 8) | b) & 0xffff;
    bits += 8;
    while (bits >= 5) {
      bits -= 5;
      out.push((acc >>> bits) & 31);
    }
  }
  if (bits > 0) out.push((acc << (5 - bits)) & 31);
  return out;
}
