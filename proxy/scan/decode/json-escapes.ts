// Undoing JSON string escapes (`\u0041`, `\/`, `\n`, ...) so that values
// hidden behind escapes are scannable. Only escapes inside string literals
// are decoded (and \u escapes anywhere); the rest is copied byte for byte.
import { copyBytes } from './copy-bytes';
import { OffsetMapBuilder, type Decoded } from './offset-map';

const QUOTE = 0x22;
const BACKSLASH = 0x5c;

const SIMPLE_ESCAPES: Readonly<Record<number, number>> = {
  0x22: 0x22, // \"
  0x5c: 0x5c, // \\
  0x2f: 0x2f, // \/
  0x62: 0x08, // \b
  0x66: 0x0c, // \f
  0x6e: 0x0a, // \n
  0x72: 0x0d, // \r
  0x74: 0x09, // \t
};

/** A JSON content type (`application/json`, `application/*+json`) or a body starting with `{` or `[`. */
export function looksLikeJson(src: Buffer, contentType?: string): boolean {
  if (contentType !== undefined && /^[^;]*[/+]json\s*(;|$)/i.test(contentType)) return true;
  let i = 0;
  if (src[0] === 0xef && src[1] === 0xbb && src[2] === 0xbf) i = 3; // UTF-8 BOM
  while (i < src.length && (src[i] === 0x20 || src[i] === 0x09 || src[i] === 0x0a || src[i] === 0x0d)) i++;
  return src[i] === 0x7b || src[i] === 0x5b;
}

/**
 * Returns null when no escape was decoded. Tolerant: invalid escapes are
 * kept as written, and a lone UTF-16 surrogate becomes U+FFFD.
 */
export function decodeJsonEscapes(src: Buffer): Decoded | null {
  if (!src.includes(BACKSLASH)) return null;
  const out = Buffer.allocUnsafe(src.length);
  const map = new OffsetMapBuilder();
  let copyFrom = 0;
  let inString = false;
  let decodedAny = false;
  for (let i = 0; i < src.length; i++) {
    const c = src[i];
    if (c === QUOTE) {
      inString = !inString;
      continue;
    }
    if (c !== BACKSLASH) continue;
    const escape = readEscape(src, i);
    if (escape === null) {
      continue; // not a valid escape: keep it as written
    }
    // Outside a string only `\u` escapes are decoded: a string's content cut
    // out of its document (and nested in another encoding) has no quotes left.
    if (!inString && escape.length < 6) continue;
    copyBytes(src, copyFrom, i, out, map.length);
    map.copy(copyFrom, i - copyFrom);
    const at = map.length;
    const written = writeUtf8(out, at, escape.codePoint);
    map.unit(written, i, escape.length);
    i += escape.length - 1;
    copyFrom = i + 1;
    decodedAny = true;
  }
  if (!decodedAny) return null;
  copyBytes(src, copyFrom, src.length, out, map.length);
  map.copy(copyFrom, src.length - copyFrom);
  return { data: out.subarray(0, map.length), map: map.build() };
}

interface Escape {
  codePoint: number;
  /** Source bytes the escape spans, backslash included. */
  length: number;
}

function readEscape(src: Buffer, at: number): Escape | null {
  const kind = src[at + 1];
  if (kind === undefined) return null;
  if (kind !== 0x75 /* u */) {
    const byte = SIMPLE_ESCAPES[kind];
    return byte === undefined ? null : { codePoint: byte, length: 2 };
  }
  const unit = readHex4(src, at + 2);
  if (unit === null) return null;
  if (unit >= 0xd800 && unit <= 0xdbff && src[at + 6] === BACKSLASH && src[at + 7] === 0x75) {
    const low = readHex4(src, at + 8);
    if (low !== null && low >= 0xdc00 && low <= 0xdfff) {
      return { codePoint: 0x10000 + ((unit - 0xd800) << 10) + (low - 0xdc00), length: 12 };
    }
  }
  const lone = unit >= 0xd800 && unit <= 0xdfff;
  return { codePoint: lone ? 0xfffd : unit, length: 6 };
}

function readHex4(src: Buffer, at: number): number | null {
  if (at + 4 > src.length) return null;
  let value = 0;
  for (let k = 0; k < 4; k++) {
    const c = src[at + k];
    let digit: number;
    if (c >= 0x30 && c <= 0x39) digit = c - 0x30;
    else if (c >= 0x41 && c <= 0x46) digit = c - 0x41 + 10;
    else if (c >= 0x61 && c <= 0x66) digit = c - 0x61 + 10;
    else return null;
    value = (value << 4) | digit;
  }
  return value;
}

// Every escape's UTF-8 form is no longer than the escape itself (`\n` -> 1
// byte, `\uXXXX` -> at most 3, a surrogate pair -> 4 of 12), so the output
// never outgrows the input buffer.
function writeUtf8(out: Buffer, at: number, codePoint: number): number {
  if (codePoint < 0x80) {
    out[at] = codePoint;
    return 1;
  }
  if (codePoint < 0x800) {
    out[at] = 0xc0 | (codePoint >> 6);
    out[at + 1] = 0x80 | (codePoint & 0x3f);
    return 2;
  }
  if (codePoint < 0x10000) {
    out[at] = 0xe0 | (codePoint >> 12);
    out[at + 1] = 0x80 | ((codePoint >> 6) & 0x3f);
    out[at + 2] = 0x80 | (codePoint & 0x3f);
    return 3;
  }
  out[at] = 0xf0 | (codePoint >> 18);
  out[at + 1] = 0x80 | ((codePoint >> 12) & 0x3f);
  out[at + 2] = 0x80 | ((codePoint >> 6) & 0x3f);
  out[at + 3] = 0x80 | (codePoint & 0x3f);
  return 4;
}
