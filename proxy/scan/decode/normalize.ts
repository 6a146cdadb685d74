// The normalized view: what a person reading the text sees, with the
// obfuscations they undo at a glance undone, so `４１１１…`, `4111&#8203;1111`,
// `&#52;&#49;…`, `4111.1111.1111.1111` and a UTF-16 body scan like plain
// `4111111111111111`. One pass over the input, one offset map back to it:
//
// - UTF-16 bodies (BOM, or NUL bytes in every other position) are read as
//   UTF-16, each output character mapped to its 2 or 4 source bytes;
// - HTML/XML character references (`&#52;`, `&#x34;`, `&amp;`, `&nbsp;`);
// - zero-width and invisible formatting characters (U+200B..U+200D, U+2060,
//   U+FEFF, soft hyphen) are dropped;
// - compatibility characters whose NFKC form is one ASCII character
//   (full-width digits and letters, superscripts, circled digits, no-break
//   spaces) become that character; Unicode dashes become `-`;
// - digit runs split by `.`, `/`, `_`, `|` or line breaks (`4111.1111.…`,
//   one digit per line), or single digits split by spaces, are joined, when
//   the run holds at least MIN_JOINED_DIGITS digits.
//
// A pure function over a complete buffer, like the other views: returns null
// when nothing changes, so ordinary bodies cost one scan of their bytes.
import { isAscii } from 'node:buffer';
import { byteClass, nextStretch, stretchEnd } from './byte-runs';
import { OffsetMapBuilder, type Decoded } from './offset-map';

/** Fewer digits than this are left split: versions, dates and IPs are not identifiers. */
export const MIN_JOINED_DIGITS = 9;
/** Bytes sampled to tell UTF-16 without a BOM. */
export const UTF16_SAMPLE_BYTES = 512;

export type Utf16 = 'le' | 'be' | null;

/** The input as characters: code point (-1 for a byte that is not valid text, kept as it is), source start and length. */
interface Chars {
  cp: Int32Array;
  start: Int32Array;
  length: Uint8Array;
  count: number;
}

function newChars(capacity: number): Chars {
  return { cp: new Int32Array(capacity), start: new Int32Array(capacity), length: new Uint8Array(capacity), count: 0 };
}

function pushChar(c: Chars, cp: number, start: number, length: number): void {
  c.cp[c.count] = cp;
  c.start[c.count] = start;
  c.length[c.count] = length;
  c.count++;
}

const ZERO_WIDTH = new Set([0x00ad, 0x180e, 0x200b, 0x200c, 0x200d, 0x2060, 0x2061, 0x2062, 0x2063, 0x2064, 0xfeff]);
const DASHES = new Set([0x2010, 0x2011, 0x2012, 0x2013, 0x2014, 0x2015, 0x2212, 0xfe58, 0xfe63, 0xff0d]);
const NAMED_ENTITIES: Readonly<Record<string, number>> = {
  amp: 0x26, lt: 0x3c, gt: 0x3e, quot: 0x22, apos: 0x27, nbsp: 0x20, commat: 0x40, period: 0x2e, colon: 0x3a,
  sol: 0x2f, hyphen: 0x2d, dash: 0x2d, lowbar: 0x5f, num: 0x23, plus: 0x2b, equals: 0x3d, comma: 0x2c,
  zwj: 0x200d, zwnj: 0x200c, shy: 0xad,
};
/** Separators joined away inside a digit run. */
export const JOINABLE = new Set([0x2e /* . */, 0x2f /* / */, 0x5f /* _ */, 0x7c /* | */, 0x0a, 0x0d]);

/** `le`/`be` when the bytes are UTF-16 text, from a BOM or from NULs in every other byte of mostly-ASCII text. */
export function detectUtf16(src: Buffer): Utf16 {
  if (src.length >= 2) {
    if (src[0] === 0xff && src[1] === 0xfe) return 'le';
    if (src[0] === 0xfe && src[1] === 0xff) return 'be';
  }
  const n = Math.min(src.length, UTF16_SAMPLE_BYTES) & ~1;
  if (n < 8) return null;
  let evenNul = 0;
  let oddNul = 0;
  for (let i = 0; i < n; i += 2) {
    if (src[i] === 0 && src[i + 1] !== 0) evenNul++;
    if (src[i + 1] === 0 && src[i] !== 0) oddNul++;
  }
  const pairs = n / 2;
  if (oddNul >= pairs * 0.7) return 'le';
  if (evenNul >= pairs * 0.7) return 'be';
  return null;
}

/** The normalized view of `src`, or null when normalization changes nothing. */
export function normalizeText(src: Buffer): Decoded | null {
  return normalizeAs(src, detectUtf16(src));
}

/**
 * The normalized view of `src` read as UTF-16 (`le`/`be`) or UTF-8 (null),
 * as decided elsewhere: a streamed body is told apart once, from its first
 * bytes, and then normalized piece by piece.
 */
export function normalizeAs(src: Buffer, utf16: Utf16): Decoded | null {
  if (utf16 === null && !mayNeedNormalizing(src)) return null;
  const chars = utf16 === null ? readUtf8(src) : readUtf16(src, utf16);
  const out = new Writer();
  let changed = utf16 !== null;
  for (let i = 0; i < chars.count; i++) {
    const cp = chars.cp[i];
    const start = chars.start[i];
    if (cp === 0x26 /* & */) {
      const ref = characterReference(chars, i);
      if (ref !== null) {
        const last = ref.endIndex;
        changed = true;
        emitNormalized(out, ref.cp, start, chars.start[last] + chars.length[last] - start);
        i = last;
        continue;
      }
    }
    if (cp >= 0x80) {
      if (emitNormalized(out, cp, start, chars.length[i])) changed = true;
      continue;
    }
    out.char(cp, start, chars.length[i], utf16 !== null);
  }
  if (joinDigitRuns(out)) changed = true;
  if (!changed) return null;
  return out.finish(src);
}

/** Bytes a joined digit chain is made of: digits, JOINABLE separators and the space. */
const CHAIN_BYTE = byteClass((b) => isDigit(b) || JOINABLE.has(b) || b === 0x20);
/** A chain worth joining has MIN_JOINED_DIGITS digits and at least one separator. */
const MIN_CHAIN_BYTES = MIN_JOINED_DIGITS + 1;

/**
 * Cheap test for plain ASCII/UTF-8 text: anything non-ASCII, an `&`, or a
 * chain of digit groups joined by separators that holds at least
 * MIN_JOINED_DIGITS digits. The chain test is a superset of what
 * joinDigitRuns would join (any mix of separators counts here), so a body
 * this rejects normalizes to nothing; it matters because ordinary JSON is
 * full of short joined numbers (`12.5`, dates) and the full pass costs
 * about 7 ms per 64 KiB. Non-ASCII and `&` are found natively, and chains
 * are looked for only in stretches of chain bytes long enough to hold one
 * (a walk over every byte was two thirds of the decoded views' time).
 */
export function mayNeedNormalizing(src: Buffer): boolean {
  if (!isAscii(src) || src.indexOf(0x26) >= 0) return true;
  for (let from = 0; ; ) {
    const start = nextStretch(CHAIN_BYTE, src, from, MIN_CHAIN_BYTES, false);
    if (start < 0) return false;
    const end = stretchEnd(CHAIN_BYTE, src, start + MIN_CHAIN_BYTES);
    if (hasJoinedDigitChain(src, start, end)) return true;
    from = end;
  }
}

/** Whether src[from, to), a stretch of chain bytes, holds a chain of MIN_JOINED_DIGITS digits joined by separators. */
function hasJoinedDigitChain(src: Buffer, from: number, to: number): boolean {
  let chainDigits = 0;
  let joined = false;
  for (let i = from; i < to; i++) {
    const b = src[i];
    if (isDigit(b)) {
      chainDigits++;
      if (joined && chainDigits >= MIN_JOINED_DIGITS) return true;
      continue;
    }
    if (chainDigits > 0) {
      // `\r\n` is one separator; anything else joins only when a digit follows at once.
      const next = b === 0x0d && src[i + 1] === 0x0a ? i + 2 : i + 1;
      if (next < src.length && isDigit(src[next])) {
        joined = true;
        i = next - 1;
        continue;
      }
    }
    chainDigits = 0;
    joined = false;
  }
  return false;
}

/** Writes `cp` in its normalized form; returns whether that differs from the source character. */
function emitNormalized(out: Writer, cp: number, start: number, length: number): boolean {
  if (ZERO_WIDTH.has(cp)) return true; // dropped: the map covers it through its neighbours
  if (DASHES.has(cp)) {
    out.unit(0x2d, start, length);
    return true;
  }
  if (cp >= 0x80) {
    const nfkc = String.fromCodePoint(cp).normalize('NFKC');
    if (nfkc.length === 1 && nfkc.charCodeAt(0) < 0x80) {
      out.unit(nfkc.charCodeAt(0), start, length);
      return true;
    }
    out.utf8(cp, start, length);
    return false;
  }
  out.unit(cp, start, length);
  return true;
}

/** `&#52;`, `&#x34;`, `&amp;` starting at chars[i]: the code point and the index of the closing `;`. */
function characterReference(chars: Chars, i: number): { cp: number; endIndex: number } | null {
  const MAX_REF = 12;
  const n = chars.count;
  let j = i + 1;
  if (j >= n) return null;
  if (chars.cp[j] === 0x23 /* # */) {
    j++;
    const hex = j < n && (chars.cp[j] | 0x20) === 0x78; /* x */
    if (hex) j++;
    let value = 0;
    let digits = 0;
    for (; j < n && j - i <= MAX_REF; j++) {
      const d = digitValue(chars.cp[j], hex);
      if (d < 0) break;
      value = value * (hex ? 16 : 10) + d;
      digits++;
    }
    if (digits === 0 || j >= n || chars.cp[j] !== 0x3b /* ; */) return null;
    if (value === 0 || value > 0x10ffff || (value >= 0xd800 && value <= 0xdfff)) return null;
    return { cp: value, endIndex: j };
  }
  let name = '';
  for (; j < n && j - i <= MAX_REF; j++) {
    const cp = chars.cp[j];
    if (cp === 0x3b) break;
    if (!((cp >= 0x61 && cp <= 0x7a) || (cp >= 0x41 && cp <= 0x5a))) return null;
    name += String.fromCharCode(cp);
  }
  if (j >= n || chars.cp[j] !== 0x3b) return null;
  const cp = NAMED_ENTITIES[name];
  return cp === undefined ? null : { cp, endIndex: j };
}

function digitValue(cp: number, hex: boolean): number {
  if (cp >= 0x30 && cp <= 0x39) return cp - 0x30;
  if (!hex) return -1;
  const lower = cp | 0x20;
  return lower >= 0x61 && lower <= 0x66 ? lower - 0x61 + 10 : -1;
}

function readUtf8(src: Buffer): Chars {
  const chars = newChars(src.length);
  for (let i = 0; i < src.length; ) {
    const b = src[i];
    let cp = -1;
    let len = 1;
    if (b < 0x80) cp = b;
    else if (b >= 0xc2 && b <= 0xdf && cont(src, i + 1)) {
      cp = ((b & 0x1f) << 6) | (src[i + 1] & 0x3f);
      len = 2;
    } else if (b >= 0xe0 && b <= 0xef && cont(src, i + 1) && cont(src, i + 2)) {
      cp = ((b & 0x0f) << 12) | ((src[i + 1] & 0x3f) << 6) | (src[i + 2] & 0x3f);
      len = 3;
      if (cp < 0x800 || (cp >= 0xd800 && cp <= 0xdfff)) [cp, len] = [-1, 1];
    } else if (b >= 0xf0 && b <= 0xf4 && cont(src, i + 1) && cont(src, i + 2) && cont(src, i + 3)) {
      cp = ((b & 0x07) << 18) | ((src[i + 1] & 0x3f) << 12) | ((src[i + 2] & 0x3f) << 6) | (src[i + 3] & 0x3f);
      len = 4;
      if (cp < 0x10000 || cp > 0x10ffff) [cp, len] = [-1, 1];
    }
    pushChar(chars, cp, i, len);
    i += len;
  }
  return chars;
}

function cont(src: Buffer, i: number): boolean {
  return i < src.length && (src[i] & 0xc0) === 0x80;
}

function readUtf16(src: Buffer, order: 'le' | 'be'): Chars {
  const chars = newChars(src.length >> 1);
  const unit = (i: number) => (order === 'le' ? src[i] | (src[i + 1] << 8) : (src[i] << 8) | src[i + 1]);
  let i = src.length >= 2 && unit(0) === 0xfeff ? 2 : 0;
  for (; i + 1 < src.length; ) {
    const u = unit(i);
    if (u >= 0xd800 && u <= 0xdbff && i + 3 < src.length) {
      const low = unit(i + 2);
      if (low >= 0xdc00 && low <= 0xdfff) {
        pushChar(chars, 0x10000 + ((u - 0xd800) << 10) + (low - 0xdc00), i, 4);
        i += 4;
        continue;
      }
    }
    pushChar(chars, u >= 0xd800 && u <= 0xdfff ? 0xfffd : u, i, 2);
    i += 2;
  }
  return chars;
}

/**
 * Output under construction: bytes, plus for each output byte the source
 * span of the character that produced it (a multi-byte output character
 * shares its source span), so digit-run joining can delete separators after
 * the fact and the map is built once at the end.
 */
class Writer {
  private bytes: number[] = [];
  private srcStart: number[] = [];
  private srcLength: number[] = [];
  /** How many output bytes the character at each output byte position produced (1 for ASCII). */
  private charBytes: number[] = [];

  char(cp: number, start: number, length: number, reencoded: boolean): void {
    if (cp < 0) this.push(-1, start, length, 1);
    else if (reencoded) this.utf8(cp, start, length);
    else this.push(cp, start, length, 1);
  }

  unit(byte: number, start: number, length: number): void {
    this.push(byte, start, length, 1);
  }

  utf8(cp: number, start: number, length: number): void {
    const enc = Buffer.from(String.fromCodePoint(cp), 'utf8');
    for (const b of enc) this.push(b, start, length, enc.length);
  }

  private push(byte: number, start: number, length: number, width: number): void {
    this.bytes.push(byte);
    this.srcStart.push(start);
    this.srcLength.push(length);
    this.charBytes.push(width);
  }

  get length(): number {
    return this.bytes.length;
  }

  byteAt(i: number): number {
    return this.bytes[i];
  }

  /** Keeps only the output bytes where keep[i] is true. */
  filter(keep: readonly boolean[]): void {
    const pick = <T>(a: T[]) => a.filter((_, i) => keep[i]);
    this.bytes = pick(this.bytes);
    this.srcStart = pick(this.srcStart);
    this.srcLength = pick(this.srcLength);
    this.charBytes = pick(this.charBytes);
  }

  finish(src: Buffer): Decoded {
    const data = Buffer.allocUnsafe(this.bytes.length);
    const map = new OffsetMapBuilder();
    for (let i = 0; i < this.bytes.length; ) {
      const b = this.bytes[i];
      // A byte that was not valid text (-1) is copied from the source.
      data[i] = b < 0 ? src[this.srcStart[i]] : b;
      const width = this.charBytes[i];
      if (b >= 0 && width > 1) {
        for (let k = 1; k < width; k++) data[i + k] = this.bytes[i + k];
        map.unit(width, this.srcStart[i], this.srcLength[i]);
        i += width;
      } else if (this.srcLength[i] === 1 && (b < 0 || b === src[this.srcStart[i]])) {
        map.copy(this.srcStart[i], 1);
        i++;
      } else {
        map.unit(1, this.srcStart[i], this.srcLength[i]);
        i++;
      }
    }
    return { data, map: map.build() };
  }
}

function isDigit(b: number): boolean {
  return b >= 0x30 && b <= 0x39;
}

/**
 * Deletes separators inside digit runs: `4111.1111.1111.1111`, one digit per
 * line, `4 1 1 1 ...`. A run is digit groups joined by one kind of joinable
 * separator (a line break may be `\r\n`); spaces join only single digits.
 */
function joinDigitRuns(out: Writer): boolean {
  const n = out.length;
  const keep = new Array<boolean>(n).fill(true);
  let changed = false;
  for (let i = 0; i < n; ) {
    if (!isDigit(out.byteAt(i))) {
      i++;
      continue;
    }
    // Collect groups starting at i.
    let j = i;
    let digits = 0;
    let sepKind = -1;
    let maxGroup = 0;
    const separators: Array<[number, number]> = [];
    let end = i;
    for (;;) {
      let g = 0;
      while (j < n && isDigit(out.byteAt(j))) {
        j++;
        g++;
      }
      digits += g;
      maxGroup = Math.max(maxGroup, g);
      end = j;
      // A separator: one joinable byte, `\r\n`, or one space.
      let s = j;
      let kind = out.byteAt(s);
      if (kind === 0x0d && s + 1 < n && out.byteAt(s + 1) === 0x0a) {
        s++;
        kind = 0x0a;
      } else if (kind === 0x0a) {
        kind = 0x0a;
      }
      const joinable = j < n && (JOINABLE.has(kind) || kind === 0x20);
      if (!joinable || s + 1 >= n || !isDigit(out.byteAt(s + 1))) break;
      if (sepKind === -1) sepKind = kind;
      else if (sepKind !== kind) break;
      separators.push([j, s + 1]);
      j = s + 1;
    }
    const spacedSingles = sepKind === 0x20 && maxGroup === 1;
    if (separators.length > 0 && digits >= MIN_JOINED_DIGITS && (sepKind !== 0x20 || spacedSingles)) {
      for (const [from, to] of separators) for (let k = from; k < to; k++) keep[k] = false;
      changed = true;
    }
    i = Math.max(end, i + 1);
  }
  if (changed) out.filter(keep);
  return changed;
}
