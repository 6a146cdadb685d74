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
  const out = Writer.acquire(src, utf16);
  let changed = utf16 === null ? readUtf8Into(src, out) : readUtf16Into(src, utf16, out);
  if (joinDigitRuns(out)) changed = true;
  return changed ? out.finish() : null;
}

/**
 * Normalizes UTF-8 `src` into `out`; returns whether anything changed.
 * Stretches of ASCII without `&` are copied in bulk: only the characters
 * around them are looked at one by one.
 */
function readUtf8Into(src: Buffer, out: Writer): boolean {
  const n = src.length;
  // All-ASCII input (the usual case) has only `&` to stop at, found natively.
  const ascii = isAscii(src);
  let changed = false;
  for (let i = 0; i < n; ) {
    let plainEnd = i;
    if (ascii) {
      plainEnd = src.indexOf(0x26, i);
      if (plainEnd < 0) plainEnd = n;
    } else {
      while (plainEnd < n && src[plainEnd] < 0x80 && src[plainEnd] !== 0x26) plainEnd++;
    }
    if (plainEnd > i) {
      out.copyRun(src, i, plainEnd);
      i = plainEnd;
      continue;
    }
    if (src[i] === 0x26) {
      const at = i;
      const ref = characterReference((k) => (at + k < n ? src[at + k] : -1));
      if (ref !== null) {
        changed = true;
        emitNormalized(out, ref.cp, i, ref.units);
        i += ref.units;
      } else {
        out.copyRun(src, i, i + 1);
        i++;
      }
      continue;
    }
    const { cp, length } = utf8At(src, i);
    if (cp < 0) out.copyRun(src, i, i + 1);
    else if (emitNormalized(out, cp, i, length)) changed = true;
    i += length;
  }
  return changed;
}

/** Normalizes UTF-16 `src` into `out` as UTF-8: always a change. */
function readUtf16Into(src: Buffer, order: 'le' | 'be', out: Writer): boolean {
  const chars = readUtf16(src, order);
  for (let i = 0; i < chars.count; i++) {
    const cp = chars.cp[i];
    const start = chars.start[i];
    if (cp === 0x26 /* & */) {
      const at = i;
      const ref = characterReference((k) => (at + k < chars.count ? chars.cp[at + k] : -1));
      if (ref !== null) {
        const last = i + ref.units - 1;
        emitNormalized(out, ref.cp, start, chars.start[last] + chars.length[last] - start);
        i = last;
        continue;
      }
    }
    if (cp >= 0x80) emitNormalized(out, cp, start, chars.length[i]);
    else out.utf8(cp, start, chars.length[i]);
  }
  return true;
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

/**
 * Whether src[from, to), a stretch of chain bytes, holds a chain of
 * MIN_JOINED_DIGITS digits joined by separators. A space joins only single
 * digits (`4 1 1 1`), as in joinDigitRuns: a card written in spaced groups
 * of four is what detectors read already, and treating it as a chain sent
 * every such body through the full pass.
 */
function hasJoinedDigitChain(src: Buffer, from: number, to: number): boolean {
  let chainDigits = 0;
  let groupDigits = 0;
  let joined = false;
  for (let i = from; i < to; i++) {
    const b = src[i];
    if (isDigit(b)) {
      chainDigits++;
      groupDigits++;
      if (joined && chainDigits >= MIN_JOINED_DIGITS) return true;
      continue;
    }
    if (chainDigits > 0) {
      // `\r\n` is one separator; anything else joins only when a digit follows at once.
      const next = b === 0x0d && src[i + 1] === 0x0a ? i + 2 : i + 1;
      const spaceJoins = b !== 0x20 || (groupDigits === 1 && !isDigit(src[next + 1]));
      if (next < src.length && isDigit(src[next]) && spaceJoins) {
        joined = true;
        groupDigits = 0;
        i = next - 1;
        continue;
      }
    }
    chainDigits = 0;
    groupDigits = 0;
    joined = false;
  }
  return false;
}

/** BMP answers of asciiFold: 0 not yet asked, 1 no ASCII form, else the ASCII character + 2. */
const BMP_FOLDS = new Uint8Array(0x10000);

/**
 * The one ASCII character whose NFKC form `cp` is, or -1. Remembered for
 * the BMP: text in a non-Latin script asks about every character, and
 * String.prototype.normalize per character is slow.
 */
function asciiFold(cp: number): number {
  if (cp < 0x10000 && BMP_FOLDS[cp] !== 0) return BMP_FOLDS[cp] - 2;
  const nfkc = String.fromCodePoint(cp).normalize('NFKC');
  const ascii = nfkc.length === 1 && nfkc.charCodeAt(0) < 0x80 ? nfkc.charCodeAt(0) : -1;
  if (cp < 0x10000) BMP_FOLDS[cp] = ascii + 2;
  return ascii;
}

/** Writes `cp` in its normalized form; returns whether that differs from the source character. */
function emitNormalized(out: Writer, cp: number, start: number, length: number): boolean {
  if (ZERO_WIDTH.has(cp)) return true; // dropped: the map covers it through its neighbours
  if (DASHES.has(cp)) {
    out.unit(0x2d, start, length);
    return true;
  }
  if (cp >= 0x80) {
    const ascii = asciiFold(cp);
    if (ascii >= 0) {
      out.unit(ascii, start, length);
      return true;
    }
    out.utf8(cp, start, length);
    return false;
  }
  out.unit(cp, start, length);
  return true;
}

/**
 * `&#52;`, `&#x34;`, `&amp;` at the start of the characters `unitAt` reads
 * (-1 past the end): the code point and how many characters it spans,
 * closing `;` included.
 */
function characterReference(unitAt: (k: number) => number): { cp: number; units: number } | null {
  const MAX_REF = 12;
  let j = 1;
  if (unitAt(j) === 0x23 /* # */) {
    j++;
    const hex = (unitAt(j) | 0x20) === 0x78; /* x */
    if (hex) j++;
    let value = 0;
    let digits = 0;
    for (; j <= MAX_REF; j++) {
      const d = digitValue(unitAt(j), hex);
      if (d < 0) break;
      value = value * (hex ? 16 : 10) + d;
      digits++;
    }
    if (digits === 0 || unitAt(j) !== 0x3b /* ; */) return null;
    if (value === 0 || value > 0x10ffff || (value >= 0xd800 && value <= 0xdfff)) return null;
    return { cp: value, units: j + 1 };
  }
  let name = '';
  for (; j <= MAX_REF; j++) {
    const cp = unitAt(j);
    if (cp === 0x3b) break;
    if (!((cp >= 0x61 && cp <= 0x7a) || (cp >= 0x41 && cp <= 0x5a))) return null;
    name += String.fromCharCode(cp);
  }
  if (unitAt(j) !== 0x3b) return null;
  const cp = NAMED_ENTITIES[name];
  return cp === undefined ? null : { cp, units: j + 1 };
}

function digitValue(cp: number, hex: boolean): number {
  if (cp >= 0x30 && cp <= 0x39) return cp - 0x30;
  if (!hex) return -1;
  const lower = cp | 0x20;
  return lower >= 0x61 && lower <= 0x66 ? lower - 0x61 + 10 : -1;
}

/** The UTF-8 character at src[i]: its code point (-1 for a byte that is not valid text) and byte length. */
function utf8At(src: Buffer, i: number): { cp: number; length: number } {
  const b = src[i];
  if (b < 0x80) return { cp: b, length: 1 };
  if (b >= 0xc2 && b <= 0xdf && cont(src, i + 1)) return { cp: ((b & 0x1f) << 6) | (src[i + 1] & 0x3f), length: 2 };
  if (b >= 0xe0 && b <= 0xef && cont(src, i + 1) && cont(src, i + 2)) {
    const cp = ((b & 0x0f) << 12) | ((src[i + 1] & 0x3f) << 6) | (src[i + 2] & 0x3f);
    return cp < 0x800 || (cp >= 0xd800 && cp <= 0xdfff) ? { cp: -1, length: 1 } : { cp, length: 3 };
  }
  if (b >= 0xf0 && b <= 0xf4 && cont(src, i + 1) && cont(src, i + 2) && cont(src, i + 3)) {
    const cp = ((b & 0x07) << 18) | ((src[i + 1] & 0x3f) << 12) | ((src[i + 2] & 0x3f) << 6) | (src[i + 3] & 0x3f);
    return cp < 0x10000 || cp > 0x10ffff ? { cp: -1, length: 1 } : { cp, length: 4 };
  }
  return { cp: -1, length: 1 };
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
 *
 * Typed arrays sized from the source (the output is never longer than a
 * UTF-8 source, and at most 3 bytes per UTF-16 unit), reused from one call
 * to the next: JS arrays grown a byte at a time made this pass 3-9 MB/s and
 * left a heap of garbage for every piece a stream sent through it.
 */
class Writer {
  /** Writers up to this many bytes are kept for the next call (~1.8 MiB of arrays). */
  private static readonly KEEP_CAPACITY = 256 * 1024;
  private static spare: Writer | undefined;

  private bytes: Uint8Array;
  private srcStart: Int32Array;
  private srcLength: Uint8Array;
  /**
   * How many output bytes the character at each output byte position
   * produced; 0 marks a byte copied unchanged from its one source byte.
   */
  private charBytes: Uint8Array;
  private n = 0;

  private constructor(capacity: number) {
    this.bytes = new Uint8Array(capacity);
    this.srcStart = new Int32Array(capacity);
    this.srcLength = new Uint8Array(capacity);
    this.charBytes = new Uint8Array(capacity);
  }

  /** An empty writer with room for what `src` can normalize to (normalizeAs is synchronous: one is in use at a time). */
  static acquire(src: Buffer, utf16: Utf16): Writer {
    const capacity = utf16 === null ? src.length + 4 : (src.length >> 1) * 3 + 4;
    const spare = Writer.spare;
    if (spare !== undefined && spare.bytes.length >= capacity) {
      spare.n = 0;
      return spare;
    }
    const writer = new Writer(capacity);
    if (capacity <= Writer.KEEP_CAPACITY) Writer.spare = writer;
    return writer;
  }

  /** src[from, to) copied unchanged, one source byte per output byte. */
  copyRun(src: Buffer, from: number, to: number): void {
    const length = to - from;
    this.ensure(this.n + length);
    const at = this.n;
    this.bytes.set(src.subarray(from, to), at);
    for (let k = 0; k < length; k++) this.srcStart[at + k] = from + k;
    this.srcLength.fill(1, at, at + length);
    this.charBytes.fill(0, at, at + length);
    this.n += length;
  }

  unit(byte: number, start: number, length: number): void {
    this.push(byte, start, length, 1);
  }

  utf8(cp: number, start: number, length: number): void {
    if (cp < 0x80) {
      this.push(cp, start, length, 1);
    } else if (cp < 0x800) {
      this.push(0xc0 | (cp >> 6), start, length, 2);
      this.push(0x80 | (cp & 0x3f), start, length, 2);
    } else if (cp < 0x10000) {
      this.push(0xe0 | (cp >> 12), start, length, 3);
      this.push(0x80 | ((cp >> 6) & 0x3f), start, length, 3);
      this.push(0x80 | (cp & 0x3f), start, length, 3);
    } else {
      this.push(0xf0 | (cp >> 18), start, length, 4);
      this.push(0x80 | ((cp >> 12) & 0x3f), start, length, 4);
      this.push(0x80 | ((cp >> 6) & 0x3f), start, length, 4);
      this.push(0x80 | (cp & 0x3f), start, length, 4);
    }
  }

  private push(byte: number, start: number, length: number, width: number): void {
    this.ensure(this.n + 1);
    const i = this.n++;
    this.bytes[i] = byte;
    this.srcStart[i] = start;
    this.srcLength[i] = length;
    this.charBytes[i] = width;
  }

  /** Not reached with the capacity acquire gives; kept so a wrong estimate costs a copy, not a corrupt view. */
  private ensure(needed: number): void {
    if (needed <= this.bytes.length) return;
    const capacity = Math.max(needed, this.bytes.length * 2);
    const widen = <T extends Uint8Array | Int32Array>(old: T, wider: T): T => {
      wider.set(old);
      return wider;
    };
    this.bytes = widen(this.bytes, new Uint8Array(capacity));
    this.srcStart = widen(this.srcStart, new Int32Array(capacity));
    this.srcLength = widen(this.srcLength, new Uint8Array(capacity));
    this.charBytes = widen(this.charBytes, new Uint8Array(capacity));
  }

  /** The output bytes written so far (a view, valid until the next write). */
  get output(): Uint8Array {
    return this.bytes.subarray(0, this.n);
  }

  /** Deletes the output bytes in `spans` (ascending, disjoint [from, to) pairs), in place. */
  remove(spans: ReadonlyArray<readonly [number, number]>): void {
    let w = spans[0][0];
    for (let k = 0; k < spans.length; k++) {
      const from = spans[k][1];
      const to = k + 1 < spans.length ? spans[k + 1][0] : this.n;
      for (const a of [this.bytes, this.srcStart, this.srcLength, this.charBytes]) a.copyWithin(w, from, to);
      w += to - from;
    }
    this.n = w;
  }

  finish(): Decoded {
    const { bytes, srcStart, srcLength, charBytes, n } = this;
    const data = Buffer.from(bytes.subarray(0, n));
    const map = new OffsetMapBuilder();
    for (let i = 0; i < n; ) {
      const width = charBytes[i];
      if (width === 0) {
        // A run of bytes copied unchanged is one map call, not one per byte.
        const from = srcStart[i];
        let run = 1;
        while (i + run < n && charBytes[i + run] === 0 && srcStart[i + run] === from + run) run++;
        map.copy(from, run);
        i += run;
      } else {
        map.unit(width, srcStart[i], srcLength[i]);
        i += width;
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
  const bytes = out.output;
  /** Separators to delete, in output order. */
  const removed: Array<[number, number]> = [];
  // A joined run is made of chain bytes only and is at least MIN_CHAIN_BYTES
  // long: only such stretches are walked, each as if it were the whole text
  // (the byte after a stretch is neither a digit nor a separator).
  for (let from = 0; ; ) {
    const start = nextStretch(CHAIN_BYTE, bytes, from, MIN_CHAIN_BYTES, false);
    if (start < 0) break;
    const end = stretchEnd(CHAIN_BYTE, bytes, start + MIN_CHAIN_BYTES);
    joinRunsIn(bytes, start, end, removed);
    from = end;
  }
  if (removed.length === 0) return false;
  out.remove(removed);
  return true;
}

/** Appends to `removed` the separators of the joinable digit runs in bytes[from, n). */
function joinRunsIn(bytes: Uint8Array, from: number, n: number, removed: Array<[number, number]>): void {
  for (let i = from; i < n; ) {
    if (!isDigit(bytes[i])) {
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
      while (j < n && isDigit(bytes[j])) {
        j++;
        g++;
      }
      digits += g;
      maxGroup = Math.max(maxGroup, g);
      end = j;
      // A separator: one joinable byte, `\r\n`, or one space.
      let s = j;
      let kind = bytes[s];
      if (kind === 0x0d && s + 1 < n && bytes[s + 1] === 0x0a) {
        s++;
        kind = 0x0a;
      } else if (kind === 0x0a) {
        kind = 0x0a;
      }
      const joinable = j < n && (JOINABLE.has(kind) || kind === 0x20);
      if (!joinable || s + 1 >= n || !isDigit(bytes[s + 1])) break;
      if (sepKind === -1) sepKind = kind;
      else if (sepKind !== kind) break;
      separators.push([j, s + 1]);
      j = s + 1;
    }
    const spacedSingles = sepKind === 0x20 && maxGroup === 1;
    if (separators.length > 0 && digits >= MIN_JOINED_DIGITS && (sepKind !== 0x20 || spacedSingles)) {
      removed.push(...separators);
    }
    i = Math.max(end, i + 1);
  }
}
