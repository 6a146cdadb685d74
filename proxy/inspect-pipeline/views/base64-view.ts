// The base64 / base64url view, streamed. Each run of at least MIN_CHARS
// alphabet characters is decoded as it arrives (a carry of at most three
// characters between chunks) and scanned as its own segment, so unrelated
// runs never join into a false match. A run continues across a line break
// that falls on a group boundary: that is how MIME (multipart parts with
// Content-Transfer-Encoding: base64) folds base64 into 76-character lines.
// A run that starts with a gzip or zlib header gets an inflater below it.
import { BASE64_ALPHABET } from '../../scan/decode/base64';
import { stretchEnd } from '../../scan/decode/byte-runs';
import { StretchFinder } from '../../scan/decode/stretch-finder';
import { OffsetMapBuilder } from '../../scan/decode/offset-map';
import { looksLikeText } from '../../scan/decode/text-heuristics';
import { hasGzipMagic, hasZlibHeader } from '../../scan/decode/zlib-format';
import { ViewNode, type TreeContext } from './view-node';

/** Shortest run decoded: 16 characters make 12 bytes, room for an SSN or a short key. */
export const MIN_CHARS = 16;

/** Where the next run of MIN_CHARS alphabet characters starts: every byte of every body passes here. */
const RUNS = new StretchFinder(BASE64_ALPHABET, MIN_CHARS);

/** Whole groups at least this long are decoded in one native call. */
const BULK_CHARS = 64;

const SEXTET = new Int8Array(256).fill(-1);
'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789'.split('').forEach((ch, i) => {
  SEXTET[ch.charCodeAt(0)] = i;
});
SEXTET[0x2b] = 62; // +
SEXTET[0x2f] = 63; // /
SEXTET[0x2d] = 62; // - (url-safe)
SEXTET[0x5f] = 63; // _ (url-safe)
const CR = 0x0d;
const EMPTY = Buffer.alloc(0);
const LF = 0x0a;

const enum State {
  Idle,
  Run,
  /** A line break inside a run, on a group boundary: MIME folding if base64 follows. */
  Newline,
}

export class Base64View extends ViewNode {
  private inBytes = 0;
  private state = State.Idle;
  private runStart = 0;
  private runChars = 0;
  private confirmed = false;
  /** Sextets of the group in progress and where its first character was. */
  private group = 0;
  private groupLen = 0;
  private groupStart = 0;
  /** Decoded bytes of an unconfirmed run (fewer than MIN_CHARS characters so far). */
  private held: Buffer[] = [];
  private heldMap = new OffsetMapBuilder();
  private runInflater?: ViewNode;
  // Output of the chunk being decoded.
  private out: Buffer = Buffer.alloc(0);
  private o = 0;
  private map = new OffsetMapBuilder();

  constructor(tree: TreeContext, name: string, depth: number, parent: ViewNode, probe: boolean) {
    super(tree, name, depth, parent, probe);
  }

  write(chunk: Buffer): void | Promise<void> {
    const base = this.inBytes;
    this.inBytes += chunk.length;
    const n = chunk.length;
    // Output space only where a run is being decoded: most chunks have none.
    this.out = this.state === State.Idle ? EMPTY : Buffer.allocUnsafe(Math.ceil((n * 3) / 4) + 3);
    this.o = 0;
    this.map = this.confirmed ? new OffsetMapBuilder() : this.heldMap;
    let i = 0;
    while (i < n) {
      if (this.state === State.Idle) {
        // A run that ends short inside this chunk (a word, a path) decodes to nothing; one cut by the chunk's end may go on.
        const s = RUNS.next(chunk, i, true);
        if (s < 0) break;
        this.beginRun(base + s);
        if (this.out.length - this.o < Math.ceil(((n - s) * 3) / 4) + 3) {
          this.out = Buffer.allocUnsafe(Math.ceil(((n - s) * 3) / 4) + 3);
          this.o = 0;
        }
        i = s;
      }
      if (this.state === State.Run && this.confirmed && this.groupLen === 0) {
        const whole = (stretchEnd(BASE64_ALPHABET, chunk, i) - i) & ~3;
        if (whole >= BULK_CHARS) {
          this.decodeGroups(chunk, i, whole, base);
          i += whole;
          continue;
        }
      }
      const c = chunk[i];
      const v = SEXTET[c];
      if (this.state === State.Newline) {
        if (c === CR || c === LF) {
          i++;
          continue;
        }
        if (v < 0) {
          this.track(this.endRun());
          continue;
        }
        this.state = State.Run;
      }
      if (v < 0) {
        if ((c === CR || c === LF) && this.confirmed && this.groupLen === 0) {
          this.state = State.Newline;
          i++;
          continue;
        }
        this.track(this.endRun());
        // `=` padding and any other byte end the run; the byte itself starts nothing.
        i++;
        continue;
      }
      if (this.groupLen === 0) this.groupStart = base + i;
      this.group = (this.group << 6) | v;
      this.groupLen++;
      this.runChars++;
      i++;
      if (this.groupLen === 4) this.put(3, base + i);
      if (!this.confirmed && this.runChars >= MIN_CHARS) this.track(this.confirm());
    }
    if (this.confirmed && this.o > 0) this.track(this.emitPiece());
    else if (!this.confirmed && this.o > 0) {
      // An unconfirmed run's bytes wait (fewer than MIN_CHARS characters' worth).
      this.held.push(Buffer.from(this.out.subarray(0, this.o)));
      this.o = 0;
    }
    return this.settle();
  }

  flush(): void | Promise<void> {
    if (this.state !== State.Idle) this.track(this.endRun());
    this.state = State.Idle;
    return this.settle();
  }

  safeInput(): number {
    if (this.state === State.Idle) return this.safeOfOutput(this.inBytes);
    if (!this.confirmed) return this.runStart;
    return this.safeOfOutput(this.groupLen > 0 ? this.groupStart : this.inBytes);
  }

  override destroy(): void {
    super.destroy();
    this.runInflater = undefined;
  }

  private safeOfOutput(pendingFrom: number): number {
    const safe = this.safeOutput();
    if (safe >= this.outBytes) return pendingFrom;
    return Math.min(pendingFrom, this.parentOffsetOf(safe) ?? pendingFrom);
  }

  private beginRun(start: number): void {
    this.state = State.Run;
    this.runStart = start;
    this.runChars = 0;
    this.confirmed = false;
    this.group = 0;
    this.groupLen = 0;
    this.held = [];
    this.heldMap = new OffsetMapBuilder();
    this.map = this.heldMap;
  }

  /** Decoded bytes of the group just completed (or the final partial group). */
  private put(bytes: number, groupEnd: number): void {
    const g = this.group << (6 * (4 - this.groupLen));
    const at = this.o;
    this.out[at] = (g >> 16) & 0xff;
    if (bytes > 1) this.out[at + 1] = (g >> 8) & 0xff;
    if (bytes > 2) this.out[at + 2] = g & 0xff;
    this.o += bytes;
    this.map.unit(bytes, this.groupStart, groupEnd - this.groupStart);
    this.group = 0;
    this.groupLen = 0;
  }

  /**
   * Whole groups of a confirmed run, decoded natively: the per-character
   * loop above costs about 12 ns a character, and base64 blobs (images,
   * attachments in JSON) are common. Node's base64 decoder reads both
   * alphabets, as SEXTET does, and the span holds only alphabet characters.
   */
  private decodeGroups(chunk: Buffer, from: number, chars: number, base: number): void {
    const groups = chars / 4;
    const bytes = groups * 3;
    this.out.write(chunk.toString('latin1', from, from + chars), this.o, bytes, 'base64');
    this.map.units(3, base + from, 4, groups);
    this.o += bytes;
    this.runChars += chars;
  }

  /** The run is long enough to be base64: decide what it holds and start emitting. */
  private confirm(): void | Promise<void> {
    this.confirmed = true;
    const first = Buffer.concat([...this.held, this.out.subarray(0, this.o)]);
    if (this.probe) {
      if (looksLikeText(first) || isGzip(first)) this.tooDeep('base64');
      this.discardOutput();
      return;
    }
    const kind = isGzip(first) ? 'gzip' : hasZlibHeader(first) ? 'deflate' : undefined;
    if (kind) {
      this.runInflater = this.tree.inflaterBelow(this, kind);
      if (this.runInflater) this.children.push(this.runInflater);
    }
    // The held bytes and this chunk's so far go out as one piece under the held map.
    const piece = first;
    const map = this.heldMap.build();
    this.held = [];
    // `first` is a copy: the output buffer's space is free again.
    this.o = 0;
    this.map = new OffsetMapBuilder();
    return this.emit(piece, map, 0);
  }

  private emitPiece(): void | Promise<void> {
    if (this.probe) {
      this.discardOutput();
      return;
    }
    const piece = this.out.subarray(0, this.o);
    const map = this.map.build();
    this.out = this.out.subarray(this.o);
    this.o = 0;
    this.map = new OffsetMapBuilder();
    return this.emit(piece, map, 0);
  }

  private discardOutput(): void {
    this.o = 0;
    this.map = new OffsetMapBuilder();
  }

  private endRun(): void | Promise<void> {
    if (this.groupLen >= 2) this.put(this.groupLen - 1, this.groupStart + this.groupLen);
    this.group = 0;
    this.groupLen = 0;
    this.state = State.Idle;
    if (!this.confirmed) {
      // Too short to be base64: what was decoded is dropped.
      this.held = [];
      this.heldMap = new OffsetMapBuilder();
      this.discardOutput();
      return;
    }
    if (this.o > 0) this.track(this.emitPiece());
    this.confirmed = false;
    this.track(this.endSegment());
    const inflater = this.runInflater;
    if (inflater) {
      this.runInflater = undefined;
      const done = this.settle();
      const drop = (): void => {
        const k = this.children.indexOf(inflater);
        if (k >= 0) this.children.splice(k, 1);
      };
      if (done) return done.then(drop);
      drop();
      return;
    }
    return this.settle();
  }
}

function isGzip(data: Buffer): boolean {
  return hasGzipMagic(data) && data.length >= 3 && data[2] === 8;
}
