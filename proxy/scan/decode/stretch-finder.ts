// nextStretch (byte-runs.ts) on libhs, for a class most text is made of.
// The base64 view asks on every byte of every body where the next run of
// 16 alphabet characters starts, and most bodies hold none. The JavaScript
// walk skips ahead from the last byte a run would need, which is cheap
// when members are rare (digit chains: kept in JavaScript, where libhs was
// 3x slower) but reads most bytes once when they are common: letters and
// digits are most of ordinary text (about 0.8 ns a byte on JSON event
// lines, as much as scanning the body for every detector). A libhs
// database of the one pattern `[class]{minLength}`, stopped at its first
// match, reads the same bytes about 2.5x faster. Same answers: the first
// window of minLength member bytes ends minLength bytes after the stretch
// that holds it starts, so the first match gives the stretch's start.
// A native call costs about 2 µs, though, more than the walk spends on a
// few kilobytes: a body of short runs (hex digests, UUIDs, tokens between
// commas) asks once per run, and there libhs alone was 17x slower. So the
// walk looks first, over the next LOOKAHEAD bytes, and libhs takes the
// rest of the chunk only when those held no run: a body of dense runs is
// walked as before, a body of plain text costs one walk of LOOKAHEAD
// bytes and one native call. Without the addon (the RE2 fallback) the
// walk does it all.
import { loadNativeBinding, type NativeDatabase, type NativeScratch } from '../../native';
import { nextStretch, type ByteClass } from './byte-runs';

/** The class as a libhs expression of hex escapes and ranges, e.g. `[\x2b\x2f-\x39]`. */
export function classExpression(member: ByteClass): string {
  const hex = (b: number) => `\\x${b.toString(16).padStart(2, '0')}`;
  let out = '';
  for (let b = 0; b < 256; b++) {
    if (member[b] !== 1) continue;
    let end = b;
    while (end + 1 < 256 && member[end + 1] === 1) end++;
    out += end === b ? hex(b) : `${hex(b)}-${hex(end)}`;
    b = end;
  }
  return `[${out}]`;
}

/** Bytes the JavaScript walk reads before handing the rest of a chunk to libhs. */
export const LOOKAHEAD = 4096;

interface NativeWindow {
  db: NativeDatabase;
  scratch: NativeScratch;
}

export class StretchFinder {
  private native: NativeWindow | null | undefined;

  constructor(
    readonly member: ByteClass,
    readonly minLength: number,
    /** False: always the JavaScript walk (tests compare the two). */
    private readonly useNative = true,
  ) {}

  /**
   * Same contract as nextStretch(member, src, from, minLength, openEnded):
   * the start of the first maximal stretch at or after `from` at least
   * minLength long, or with `openEnded` a shorter one reaching the end of
   * `src`; -1 when there is none.
   */
  next(src: Uint8Array, from: number, openEnded: boolean): number {
    const lookEnd = from + LOOKAHEAD;
    const native = lookEnd < src.length ? this.nativeWindow() : null;
    if (native === null) return nextStretch(this.member, src, from, this.minLength, openEnded);
    // Open-ended over the look-ahead: a run cut by its end is reported too.
    const near = nextStretch(this.member, src, from, this.minLength, true, lookEnd);
    // A whole run inside the look-ahead.
    if (near >= 0 && near + this.minLength <= lookEnd) return near;
    // A run reaching the look-ahead's end may go on: search from its start.
    // None at all: the byte before lookEnd is not a member, so no run starts earlier.
    return this.nativeNext(native, src, near >= 0 ? near : lookEnd, openEnded);
  }

  private nativeNext(native: NativeWindow, src: Uint8Array, from: number, openEnded: boolean): number {
    const m = native.db.scanBlock(src.subarray(from), native.scratch, 1);
    // Offsets come back as doubles (a Float64Array): `| 0` hands the walks a
    // small integer again, or V8 deoptimizes nextStretch, which every decoded
    // view and the normalize pre-check call, and reoptimizes it for doubles.
    if (m.length >= 3) return (from + m[2] - this.minLength) | 0;
    return openEnded ? this.trailingStretch(src, from) : -1;
  }

  /** The stretch ending at the end of `src` (shorter than minLength, or it would have matched). */
  private trailingStretch(src: Uint8Array, from: number): number {
    let start = src.length;
    while (start > from && this.member[src[start - 1]] === 1) start--;
    return start < src.length ? start : -1;
  }

  private nativeWindow(): NativeWindow | null {
    if (this.native !== undefined) return this.native;
    this.native = null;
    const loaded = this.useNative ? loadNativeBinding() : undefined;
    if (loaded?.ok) {
      const expression = `${classExpression(this.member)}{${this.minLength}}`;
      try {
        const db = loaded.binding.compile([expression], [0], [0], 'block');
        this.native = { db, scratch: db.allocScratch() };
      } catch {
        // A library that cannot compile one class repeat leaves the JavaScript walk in charge.
      }
    }
    return this.native;
  }
}
