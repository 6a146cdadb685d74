// The normalized view, streamed: what a reader sees once full-width digits,
// zero-width characters, HTML entities, digits split by dots, slashes or line
// breaks, and UTF-16 are undone (scan/decode/normalize.ts does the reading).
//
// normalize.ts works on a whole buffer; here the parent's output is cut into
// pieces that normalize exactly as they would as part of the whole, so the
// view keeps no more than one piece. A cut is safe after an ASCII character
// that ends every rewrite: not a digit or digit-run separator (a joined run
// never crosses it) and no `&` in the 16 characters before it (no character
// reference is cut). Text offers such a place every few bytes; input that
// offers none for MAX_PIECE_BYTES (a single digit chain that long, or text
// with no ASCII letter or punctuation at all) is cut at a character boundary,
// the one place where this view can differ from normalizing the whole.
//
// A piece is normalized in parts of about PART_BYTES, cut at the same safe
// places. Like the escape views, the view is idle while parts normalize to
// themselves (the parent already scans those bytes), and when a part changes
// it emits the `tailBytes` before it and after it, so a secret spelled partly
// plain and partly obfuscated is whole in the view, and one obfuscated number
// costs its part and that context, not a second scan of the whole piece.
//
// UTF-16 is decided once per segment from its first UTF16_SAMPLE_BYTES (a
// BOM, or NULs in every other byte), as the whole-buffer reading does.
import { OffsetMapBuilder } from '../../scan/decode/offset-map';
import { JOINABLE, UTF16_SAMPLE_BYTES, detectUtf16, mayNeedNormalizing, normalizeAs, type Utf16 } from '../../scan/decode/normalize';
import { looksLikeText } from '../../scan/decode/text-heuristics';
import { ViewNode, type TreeContext } from './view-node';

/** Longest piece held while looking for a safe cut. */
export const MAX_PIECE_BYTES = 64 * 1024;
/** Characters before a cut that must hold no `&` (a reference is at most `&` + 12 + `;`). */
const REFERENCE_REACH = 16;
/** About how long the parts a piece is normalized in are. */
const PART_BYTES = 8 * 1024;
/** Bytes of a new chunk looked at for a cut that closes the held tail. */
const HEAD_BYTES = 512;
const AMPERSAND = 0x26;
const EMPTY = Buffer.alloc(0);

/** ASCII bytes after which normalization never carries anything over. */
const CUT_AFTER = new Uint8Array(128);
for (let b = 0x21; b < 0x7f; b++) CUT_AFTER[b] = 1;
CUT_AFTER[0x09] = 1;
for (let b = 0x30; b <= 0x39; b++) CUT_AFTER[b] = 0;
for (const b of JOINABLE) CUT_AFTER[b] = 0;
CUT_AFTER[AMPERSAND] = 0;
CUT_AFTER[0x23] = 0; // '#' of `&#52;`
CUT_AFTER[0x3b] = 0; // ';'

export class NormalizeView extends ViewNode {
  private inBytes = 0;
  /** Parent bytes not yet cut into a piece. */
  private pending: Buffer = EMPTY;
  /** undefined until the segment's first bytes have been seen. */
  private utf16: Utf16 | undefined;
  private active = false;
  /** Parent offset just past the last piece that changed. */
  private lastChangeEnd = 0;
  /** The last `tailBytes` parent bytes before the next piece, context for a change at its start. */
  private context: Buffer = EMPTY;

  constructor(tree: TreeContext, name: string, depth: number, parent: ViewNode) {
    super(tree, name, depth, parent, false);
  }

  write(chunk: Buffer): void | Promise<void> {
    this.inBytes += chunk.length;
    if (this.utf16 === undefined) {
      this.pending = this.pending.length > 0 ? Buffer.concat([this.pending, chunk]) : chunk;
      if (this.pending.length < UTF16_SAMPLE_BYTES) return this.settle();
      this.utf16 = detectUtf16(this.pending);
    } else if (this.pending.length > 0) {
      // The held tail is joined with the chunk's head only, up to the first
      // safe cut there, so a chunk is not copied whole behind a few held bytes.
      const head = Buffer.concat([this.pending, chunk.subarray(0, HEAD_BYTES)]);
      const first = firstSafeCut(head, this.pending.length + 1, this.utf16);
      if (first > 0) {
        const base = this.inBytes - chunk.length - this.pending.length;
        const taken = first - this.pending.length;
        this.pending = EMPTY;
        this.piece(head.subarray(0, first), base);
        chunk = chunk.subarray(taken);
      }
      this.pending = this.pending.length > 0 ? Buffer.concat([this.pending, chunk]) : chunk;
    } else {
      this.pending = chunk;
    }
    let cut = safeCut(this.pending, this.utf16);
    if (cut <= 0 && this.pending.length >= MAX_PIECE_BYTES) cut = characterBoundary(this.pending, this.utf16);
    if (cut > 0) {
      const piece = this.pending.subarray(0, cut);
      const base = this.inBytes - this.pending.length;
      // A copy: pending may be the caller's chunk, which must not stay pinned.
      this.pending = cut < this.pending.length ? Buffer.from(this.pending.subarray(cut)) : EMPTY;
      this.piece(piece, base);
    }
    return this.settle();
  }

  flush(): void | Promise<void> {
    if (this.pending.length > 0) {
      if (this.utf16 === undefined) this.utf16 = detectUtf16(this.pending);
      this.piece(this.pending, this.inBytes - this.pending.length);
    }
    this.pending = EMPTY;
    this.utf16 = undefined;
    this.context = EMPTY;
    if (this.active) {
      this.active = false;
      this.track(this.endSegment());
    }
    return this.settle();
  }

  safeInput(): number {
    return this.burstSafeInput(this.active, this.inBytes - this.pending.length);
  }

  /** Views of the normalized text are not taken: it is what a reader sees, the last step. */
  protected override makeChildren(): void {}

  /**
   * One piece, normalized in parts of about PART_BYTES (cut at safe places),
   * so an obfuscated number costs its part and the context around it, not a
   * second scan of the whole piece. UTF-16 changes every byte: one part.
   */
  private piece(piece: Buffer, base: number): void {
    const utf16 = this.utf16 ?? null;
    for (let at = 0; at < piece.length; ) {
      const cut = utf16 === null && piece.length - at > 2 * PART_BYTES ? firstSafeCut(piece, at + PART_BYTES, null) : 0;
      const end = cut > 0 ? cut : piece.length;
      this.part(piece, at, end, base, utf16);
      at = end;
    }
    this.keepContext(piece);
  }

  private part(piece: Buffer, from: number, to: number, base: number, utf16: Utf16): void {
    const part = piece.subarray(from, to);
    const normalized = utf16 !== null || (mayNeedNormalizing(part) && looksLikeText(part)) ? normalizeAs(part, utf16) : null;
    if (normalized === null) {
      if (this.active) this.trail(part, base + from);
      return;
    }
    if (!this.active) {
      this.active = true;
      const context = this.contextBefore(piece, from);
      if (context.length > 0) this.track(this.emitCopy(context, base + from - context.length));
    }
    this.track(this.emit(normalized.data, normalized.map, base + from));
    this.lastChangeEnd = base + to;
  }

  /** A part that normalizes to itself after a change: the trailing context, then idle. */
  private trail(part: Buffer, base: number): void {
    const trailing = Math.max(0, Math.min(part.length, this.lastChangeEnd + this.tree.tailBytes - base));
    if (trailing > 0) this.track(this.emitCopy(part.subarray(0, trailing), base));
    if (trailing < part.length) {
      this.active = false;
      this.track(this.endSegment());
    }
  }

  /** The `tailBytes` parent bytes before piece[from]: context for a change starting there. */
  private contextBefore(piece: Buffer, from: number): Buffer {
    const want = this.tree.tailBytes;
    if (from >= want) return piece.subarray(from - want, from);
    return Buffer.concat([this.context.subarray(Math.max(0, this.context.length - (want - from))), piece.subarray(0, from)]);
  }

  private emitCopy(bytes: Buffer, base: number): void | Promise<void> {
    const map = new OffsetMapBuilder();
    map.copy(0, bytes.length);
    return this.emit(Buffer.from(bytes), map.build(), base);
  }

  /** Remembers the last `tailBytes` parent bytes, context for a change in the next piece. */
  private keepContext(piece: Buffer): void {
    // A copy: the piece may be the caller's chunk, which must not stay pinned.
    this.context = Buffer.from(this.contextBefore(piece, piece.length));
  }
}

/**
 * The last offset of `data` after which normalization carries nothing over,
 * or 0 when there is none. `data` starts on a character boundary.
 */
export function safeCut(data: Buffer, utf16: Utf16): number {
  const unit = utf16 === null ? 1 : 2;
  for (let p = Math.floor(data.length / unit); p > 0; p--) if (cutsAfter(data, p - 1, utf16)) return p * unit;
  return 0;
}

/** The first safe cut at or after byte `from` (rounded up to a whole unit), or 0. */
export function firstSafeCut(data: Buffer, from: number, utf16: Utf16): number {
  const unit = utf16 === null ? 1 : 2;
  const units = Math.floor(data.length / unit);
  for (let p = Math.max(1, Math.ceil(from / unit)); p <= units; p++) if (cutsAfter(data, p - 1, utf16)) return p * unit;
  return 0;
}

/** Whether a cut right after unit `at` is safe: an ASCII byte that ends every rewrite, no reference open. */
function cutsAfter(data: Buffer, at: number, utf16: Utf16): boolean {
  const c = codeUnit(data, at * (utf16 === null ? 1 : 2), utf16);
  return c < 128 && CUT_AFTER[c] === 1 && !ampersandBefore(data, at, utf16);
}

/** Whether one of the REFERENCE_REACH units before unit `at` is an `&`: a reference may still be open there. */
function ampersandBefore(data: Buffer, at: number, utf16: Utf16): boolean {
  const unit = utf16 === null ? 1 : 2;
  for (let q = at - 1; q >= 0 && q >= at - REFERENCE_REACH; q--) {
    if (codeUnit(data, q * unit, utf16) === AMPERSAND) return true;
  }
  return false;
}

function codeUnit(data: Buffer, at: number, utf16: Utf16): number {
  if (utf16 === null) return data[at];
  return utf16 === 'le' ? data[at] | (data[at + 1] << 8) : (data[at] << 8) | data[at + 1];
}

/** Where a forced cut may go: not inside a UTF-8 sequence or a UTF-16 code unit (a surrogate pair is left whole). */
export function characterBoundary(data: Buffer, utf16: Utf16): number {
  if (utf16 !== null) {
    let p = data.length & ~1;
    const high = (at: number) => {
      const u = codeUnit(data, at, utf16);
      return u >= 0xd800 && u <= 0xdbff;
    };
    if (p >= 2 && high(p - 2)) p -= 2;
    return p;
  }
  let p = data.length;
  // Back over continuation bytes to the lead byte, then before it: that character may be incomplete.
  let back = 0;
  while (p - back - 1 >= 0 && back < 4 && (data[p - back - 1] & 0xc0) === 0x80) back++;
  const lead = p - back - 1;
  if (lead >= 0 && data[lead] >= 0xc0) p = lead;
  return p;
}
