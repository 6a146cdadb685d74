// Percent, form and JSON-escape views, streamed. A text encoding only
// matters where an escape occurs, so the view stays idle (one indexOf per
// chunk) until it meets one; then it emits the `tailBytes` of context before
// the escape, the decoded text, and `tailBytes` after the last escape, and
// goes idle again. A secret spelled partly plain and partly escaped
// (`4111%201111...`) is therefore whole in the view, while plain stretches,
// which the parent already scans, are not scanned twice.
import { copyBytes } from '../../scan/decode/copy-bytes';
import { OffsetMapBuilder } from '../../scan/decode/offset-map';
import { looksLikeText } from '../../scan/decode/text-heuristics';
import { ViewNode, type TreeContext } from './view-node';

export type EscapeKind = 'percent' | 'form' | 'json';

const PERCENT = 0x25;
const PLUS = 0x2b;
const BACKSLASH = 0x5c;
const EMPTY = Buffer.alloc(0);

/** `\x` escapes of JSON and what they stand for. */
const JSON_SIMPLE = new Int16Array(256).fill(-1);
for (const [c, v] of [
  ['"', 0x22],
  ['\\', 0x5c],
  ['/', 0x2f],
  ['b', 0x08],
  ['f', 0x0c],
  ['n', 0x0a],
  ['r', 0x0d],
  ['t', 0x09],
] as const) {
  JSON_SIMPLE[c.charCodeAt(0)] = v;
}

const HEX = new Int8Array(256).fill(-1);
for (let i = 0; i < 16; i++) {
  HEX['0123456789abcdef'.charCodeAt(i)] = i;
  HEX['0123456789ABCDEF'.charCodeAt(i)] = i;
}

/** Outcome of looking at a possible escape: bytes used, 0 when it is not one, -1 when input ends inside it. */
const NOT_ESCAPE = 0;
const INCOMPLETE = -1;

export class EscapeView extends ViewNode {
  /** Parent bytes consumed so far (carry included). */
  private inBytes = 0;
  /** While idle: the last `tailBytes` parent bytes before the carry, for context on activation. */
  private context: Buffer = EMPTY;
  /** Parent bytes of an escape cut by the end of a chunk. */
  private carry: Buffer = EMPTY;
  private active = false;
  /** Parent offset just past the last decoded escape. */
  private lastEscapeEnd = 0;
  /** Bytes written by the last decodeAt. */
  private wrote = 0;

  constructor(
    tree: TreeContext,
    private readonly kind: EscapeKind,
    name: string,
    depth: number,
    parent: ViewNode,
    probe: boolean,
  ) {
    super(tree, name, depth, parent, probe);
  }

  write(chunk: Buffer): void | Promise<void> {
    const data = this.carry.length > 0 ? Buffer.concat([this.carry, chunk]) : chunk;
    const base = this.inBytes - this.carry.length;
    this.inBytes += chunk.length;
    this.carry = EMPTY;
    let from = 0;
    while (from < data.length) {
      if (!this.active) {
        const hit = this.nextEscape(data, from);
        if (hit.at < 0) {
          this.keepContext(data, from, data.length);
          return this.settle();
        }
        if (hit.used === INCOMPLETE) {
          this.keepContext(data, from, hit.at);
          this.carry = Buffer.from(data.subarray(hit.at));
          return this.settle();
        }
        if (this.probe) {
          const window = data.subarray(Math.max(0, hit.at - this.tree.tailBytes), Math.min(data.length, hit.at + this.tree.tailBytes));
          if (looksLikeText(window)) this.tooDeep(`${this.kind} escapes`);
          this.keepContext(data, from, hit.at + hit.used);
          from = hit.at + hit.used;
          continue;
        }
        const pre = this.activate(data, from, hit.at, base);
        if (pre) this.track(pre);
        from = hit.at;
      }
      from = this.decodeActive(data, from, base);
    }
    return this.settle();
  }

  flush(): void | Promise<void> {
    if (this.active && this.carry.length > 0) {
      // An escape cut off by the end of the segment is plain text after all.
      const map = new OffsetMapBuilder();
      map.copy(0, this.carry.length);
      this.track(this.emit(Buffer.from(this.carry), map.build(), this.inBytes - this.carry.length));
    }
    this.carry = EMPTY;
    this.context = EMPTY;
    if (this.active) {
      this.active = false;
      this.track(this.endSegment());
    }
    return this.settle();
  }

  safeInput(): number {
    return this.burstSafeInput(this.active, this.inBytes - this.carry.length);
  }

  /** Emit the context before the first escape and switch to decoding. */
  private activate(data: Buffer, from: number, at: number, base: number): void | Promise<void> {
    this.active = true;
    this.lastEscapeEnd = base + at;
    const want = this.tree.tailBytes;
    const fromData = data.subarray(Math.max(from, at - want), at);
    const fromContext = Math.min(this.context.length, want - fromData.length);
    const ctx = fromContext > 0 ? this.context.subarray(this.context.length - fromContext) : EMPTY;
    this.context = EMPTY;
    if (ctx.length + fromData.length === 0) return;
    const start = base + at - fromData.length - ctx.length;
    const map = new OffsetMapBuilder();
    map.copy(0, ctx.length + fromData.length);
    return this.emit(ctx.length > 0 ? Buffer.concat([ctx, fromData]) : Buffer.from(fromData), map.build(), start);
  }

  /**
   * Decode from `from` while escapes keep coming; returns where it stopped
   * (the end of the data, or where the view went idle again).
   */
  private decodeActive(data: Buffer, from: number, base: number): number {
    const out = Buffer.allocUnsafe(data.length - from);
    const map = new OffsetMapBuilder();
    let o = 0;
    let i = from;
    let copyFrom = from;
    let stop = data.length;
    let idle = false;
    const trigger2 = this.kind === 'form' ? PLUS : this.kind === 'json' ? BACKSLASH : PERCENT;
    const trigger1 = this.kind === 'json' ? BACKSLASH : PERCENT;
    while (i < data.length) {
      if (base + i - this.lastEscapeEnd > this.tree.tailBytes) {
        stop = i;
        idle = true;
        break;
      }
      const c = data[i];
      if (c !== trigger1 && c !== trigger2) {
        i++;
        continue;
      }
      const used = this.decodeAt(data, i, out, o + (i - copyFrom));
      if (used === NOT_ESCAPE) {
        i++;
        continue;
      }
      if (used === INCOMPLETE) {
        stop = i;
        this.carry = Buffer.from(data.subarray(i));
        break;
      }
      // Plain bytes up to the escape, then the escape itself.
      if (i > copyFrom) {
        copyBytes(data, copyFrom, i, out, o);
        map.copy(copyFrom, i - copyFrom);
        o += i - copyFrom;
      }
      map.unit(this.wrote, i, used);
      o += this.wrote;
      i += used;
      copyFrom = i;
      this.lastEscapeEnd = base + i;
    }
    if (stop > copyFrom) {
      copyBytes(data, copyFrom, stop, out, o);
      map.copy(copyFrom, stop - copyFrom);
      o += stop - copyFrom;
    }
    this.track(this.emit(out.subarray(0, o), map.build(), base));
    if (idle) {
      this.active = false;
      this.track(this.endSegment());
      // What was just emitted as trailing context is also the context of the next activation.
      this.keepContext(data, Math.max(from, stop - this.tree.tailBytes), stop);
    }
    return idle ? stop : data.length;
  }

  /** The next escape at or after `from`: where, and bytes used (or INCOMPLETE); at = -1 when none. */
  private nextEscape(data: Buffer, from: number): { at: number; used: number } {
    let i = from;
    for (;;) {
      const at = this.nextTrigger(data, i);
      if (at < 0) return { at: -1, used: NOT_ESCAPE };
      const used = this.decodeAt(data, at, undefined, 0);
      if (used !== NOT_ESCAPE) return { at, used };
      i = at + 1;
    }
  }

  private nextTrigger(data: Buffer, from: number): number {
    if (this.kind === 'json') return data.indexOf(BACKSLASH, from);
    const pct = data.indexOf(PERCENT, from);
    if (this.kind !== 'form') return pct;
    const plus = data.indexOf(PLUS, from);
    if (pct < 0) return plus;
    return plus < 0 ? pct : Math.min(pct, plus);
  }

  /** Decode the escape at data[i] into out[o] (when given); sets `wrote`. */
  private decodeAt(data: Buffer, i: number, out: Buffer | undefined, o: number): number {
    const c = data[i];
    if (c === PLUS) {
      if (out) out[o] = 0x20;
      this.wrote = 1;
      return 1;
    }
    if (c === PERCENT) {
      if (i + 2 >= data.length) return i + 1 < data.length && HEX[data[i + 1]] < 0 ? NOT_ESCAPE : INCOMPLETE;
      const hi = HEX[data[i + 1]];
      const lo = HEX[data[i + 2]];
      if (hi < 0 || lo < 0) return NOT_ESCAPE;
      if (out) out[o] = (hi << 4) | lo;
      this.wrote = 1;
      return 3;
    }
    // JSON backslash escape.
    if (i + 1 >= data.length) return INCOMPLETE;
    const e = data[i + 1];
    const simple = JSON_SIMPLE[e];
    if (simple >= 0) {
      if (out) out[o] = simple;
      this.wrote = 1;
      return 2;
    }
    if (e !== 0x75) return NOT_ESCAPE; // \u
    if (i + 6 > data.length) {
      for (let k = i + 2; k < data.length; k++) if (HEX[data[k]] < 0) return NOT_ESCAPE;
      return INCOMPLETE;
    }
    let code = 0;
    for (let k = i + 2; k < i + 6; k++) {
      const h = HEX[data[k]];
      if (h < 0) return NOT_ESCAPE;
      code = (code << 4) | h;
    }
    // A UTF-16 code unit as UTF-8; a surrogate half (paired or not) as U+FFFD:
    // detectors look for ASCII, and pairing would need a second unit of carry.
    if (code >= 0xd800 && code <= 0xdfff) code = 0xfffd;
    this.wrote = code < 0x80 ? 1 : code < 0x800 ? 2 : 3;
    if (out) {
      if (code < 0x80) out[o] = code;
      else if (code < 0x800) {
        out[o] = 0xc0 | (code >> 6);
        out[o + 1] = 0x80 | (code & 0x3f);
      } else {
        out[o] = 0xe0 | (code >> 12);
        out[o + 1] = 0x80 | ((code >> 6) & 0x3f);
        out[o + 2] = 0x80 | (code & 0x3f);
      }
    }
    return 6;
  }

  /** Remember the last `tailBytes` of data[from, to) (after what was kept before) as idle context. */
  private keepContext(data: Buffer, from: number, to: number): void {
    const want = this.tree.tailBytes;
    const len = to - from;
    if (len >= want) {
      // A view of the chunk, not a copy: it pins one chunk per view at most.
      this.context = data.subarray(to - want, to);
      return;
    }
    if (len <= 0) return;
    const keepOld = Math.min(this.context.length, want - len);
    this.context = Buffer.concat([this.context.subarray(this.context.length - keepOld), data.subarray(from, to)]);
  }
}
