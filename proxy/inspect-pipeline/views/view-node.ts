// One node of the streaming view tree. The root is the body as it arrives;
// every other node is a decoding of its parent's output (content coding,
// base64, percent, JSON escapes, compression found inside a view). Each node
// scans its own output with an engine stream and answers one question for
// the stage above it: below which input offset has every view derived from
// that input been scanned (its watermark)?
//
// Memory per node is bounded by the detector set (the engine's carry, a
// context window of `tailBytes`) and by the recent part of its offset map,
// never by the body size.
import type { ScanMeter } from '../scan-support';
import type { Scanner, ScanStream } from '../../scan/scanner';
import type { Finding } from '../../scan/types';
import type { OffsetMap } from '../../scan/decode/offset-map';
import type { Uninspectable } from '../verdict';

export interface ViewFinding {
  /** Offsets in the root (raw body) coordinates. */
  finding: Finding;
  /** Why the raw bytes cannot simply be masked; undefined for a plain raw finding. */
  unredactable?: string;
}

/** What every node of one tree shares: the engine, limits and where results go. */
export interface TreeContext {
  scanner: Scanner;
  meter: ScanMeter;
  /** Most decodings stacked on one another (inspection.maxDecodeDepth). */
  maxDepth: number;
  /** Bytes an engine stream may need after a match before it reports it; also the context kept around an escape. */
  tailBytes: number;
  /** Bomb limits for every inflater in the tree. */
  limits: { maxOutputBytes: number; maxRatio: number; ratioGraceBytes: number };
  /** Decoders the profile enables (gzip, deflate, br, percent, json, base64, multipart). */
  enabled: ReadonlySet<string>;
  /** Content-Type of the body: form bodies decode `+` as a space. */
  form: boolean;
  found(f: ViewFinding): void;
  problem(u: Uninspectable): void;
  /** The text views below a node (the tree decides which kinds and whether they only probe). */
  viewsBelow(parent: ViewNode): ViewNode[];
  /** An inflater for compression found inside `parent`'s output (one base64 run, or an unlabelled body). */
  inflaterBelow(parent: ViewNode, kind: 'gzip' | 'deflate'): ViewNode | undefined;
}

/** A piece of a node's output and the map back to its parent's offsets. */
interface Piece {
  outStart: number;
  outEnd: number;
  /** Parent offset the piece's map is relative to. */
  inBase: number;
  map: OffsetMap;
}

export abstract class ViewNode {
  /** Output bytes produced (and scanned). */
  outBytes = 0;
  protected readonly children: ViewNode[] = [];
  private childrenMade = false;
  private reportedDepth = false;
  private stream?: ScanStream;
  /** Output offset where the current engine stream began. */
  private streamBase = 0;
  /**
   * Output of a segment that may end within the chunk being decoded: a
   * base64 run, an escaped string, is often a few hundred bytes, and opening
   * and closing a stream (native state, a tail buffer, two calls) for each
   * cost more than scanning it. Kept here (copied: views reuse their output
   * buffers) and scanned in one block call when the segment ends; moved
   * into a stream once it outgrows DEFERRED_BYTES or outlives the chunk
   * (streamDeferred). Not yet scanned, so the watermark stays below it.
   */
  private deferred?: Buffer;
  private deferredBytes = 0;
  private deferredFrom = 0;
  private pieces: Piece[] = [];
  private readonly pendingWork: Promise<void>[] = [];

  constructor(
    protected readonly tree: TreeContext,
    /** View path, outermost first (`gzip>base64`); '' for the raw body. */
    readonly name: string,
    readonly depth: number,
    protected readonly parent: ViewNode | undefined,
    /** At the depth limit: only tell whether this decoding occurs, never scan it. */
    protected readonly probe: boolean,
  ) {}

  /** Feed the next bytes of the parent's output. Resolves once they and everything derived from them are scanned. */
  abstract write(chunk: Buffer): void | Promise<void>;
  /** The parent's current segment ended: decode what is pending, flush the engine. */
  abstract flush(): void | Promise<void>;
  /** Parent offset below which every byte has been scanned in this view and all views below it. */
  abstract safeInput(): number;

  /** Release engine state and decoders (request blocked or aborted). */
  destroy(): void {
    this.endStream();
    for (const child of this.children) child.destroy();
  }

  /**
   * safeInput() of a view that is idle between bursts of output (escapes,
   * obfuscations): nothing at or past `pendingFrom` has been decoded yet;
   * while active, also nothing past the parent offset of its safe output.
   */
  protected burstSafeInput(active: boolean, pendingFrom: number): number {
    if (!active) return pendingFrom;
    const safe = this.safeOutput();
    if (safe >= this.outBytes) return pendingFrom;
    return Math.min(pendingFrom, this.parentOffsetOf(safe) ?? pendingFrom);
  }

  /** Output offset below which this view and its children are done. */
  protected safeOutput(): number {
    let safe = this.stream ? Math.max(this.streamBase, this.outBytes - this.tree.tailBytes) : this.deferredBytes > 0 ? this.deferredFrom : this.outBytes;
    for (const child of this.children) safe = Math.min(safe, child.safeInput());
    return safe;
  }

  /** Parent span that produced output [start, end). Covering, and clamped to what the map still remembers. */
  protected toParent(start: number, end: number): [number, number] {
    const a = this.pieceAt(start);
    const b = this.pieceAt(Math.max(start, end - 1));
    if (!a || !b) return [0, 0];
    const s = a.map.toSource(clamp(start - a.outStart, a), clamp(Math.min(start + 1, a.outEnd) - a.outStart, a))[0] + a.inBase;
    const e = b.map.toSource(clamp(Math.max(end - 1, b.outStart) - b.outStart, b), clamp(Math.min(end, b.outEnd) - b.outStart, b))[1] + b.inBase;
    return [s, Math.max(s, e)];
  }

  /** Parent offset where the output byte `out` came from (for watermarks). */
  protected parentOffsetOf(out: number): number | undefined {
    const p = this.pieceAt(out);
    if (!p || out >= p.outEnd) return undefined;
    return p.map.toSource(out - p.outStart, out - p.outStart + 1)[0] + p.inBase;
  }

  toRaw(start: number, end: number): [number, number] {
    if (!this.parent) return [start, end];
    const [s, e] = this.toParent(start, end);
    return this.parent.toRaw(s, e);
  }

  /** Why a finding of this view cannot be masked in the raw bytes. */
  protected unredactable(): string | undefined {
    return this.name === '' ? undefined : `only visible in a decoded view (${this.name})`;
  }

  /**
   * Scan decoded output and hand it to the child views. `map` maps the
   * output to parent offsets relative to `inBase`.
   */
  protected emit(out: Buffer, map: OffsetMap | undefined, inBase: number): void | Promise<void> {
    if (out.length === 0) return;
    const outStart = this.outBytes;
    if (!this.childrenMade) {
      // Before outBytes moves: a child's input starts where this output does.
      this.childrenMade = true;
      this.makeChildren(this.children);
    }
    this.outBytes += out.length;
    if (map) this.pieces.push({ outStart, outEnd: this.outBytes, inBase, map });
    // Only decoded views defer: the raw body streams, so its watermark trails it by tailBytes only.
    if (this.parent && !this.stream && this.deferredBytes + out.length <= DEFERRED_BYTES) {
      if (this.deferredBytes === 0) this.deferredFrom = outStart;
      this.deferred ??= Buffer.allocUnsafe(DEFERRED_BYTES);
      out.copy(this.deferred, this.deferredBytes);
      this.deferredBytes += out.length;
    } else {
      if (!this.stream) this.openStreamWithDeferred(outStart);
      if (this.stream) this.scanInStream(out, outStart);
    }
    for (const child of this.children) {
      const work = child.write(out);
      if (work) this.track(work.then(() => child.streamDeferred()));
      else child.streamDeferred();
    }
    return this.settle();
  }

  /**
   * The parent's chunk has been taken in: output of a segment still open
   * goes into an engine stream, so the watermark trails it by tailBytes, as
   * without deferral. A segment longer than what has arrived must not hold
   * the body back: a client may send part of it and wait for the upstream.
   * Only segments that begin and end within one chunk are block-scanned.
   */
  streamDeferred(): void {
    if (this.deferredBytes > 0 && !this.stream) this.openStreamWithDeferred(this.deferredFrom);
  }

  /** Start an engine stream at the deferred output (if any), which it scans first. */
  private openStreamWithDeferred(outStart: number): void {
    const pending = this.deferredBytes;
    this.deferredBytes = 0;
    this.streamBase = pending > 0 ? this.deferredFrom : outStart;
    this.stream = this.tree.scanner.openStream();
    if (pending > 0) this.scanInStream(this.deferred!.subarray(0, pending), this.deferredFrom);
  }

  private scanInStream(out: Buffer, outStart: number): void {
    let found: Finding[];
    try {
      found = this.tree.meter.time(out.length, () => this.stream!.write(out));
    } catch (err) {
      this.failScan(err);
      return;
    }
    this.report(found, this.streamBase, outStart);
  }

  /** End the current output segment: flush the engine and the children's state. */
  protected endSegment(): void | Promise<void> {
    this.endStream();
    for (const child of this.children) this.track(child.flush());
    return this.settle();
  }

  /** Children are made on first output: a view that never activates costs nothing below it. */
  protected makeChildren(into: ViewNode[]): void {
    into.push(...this.tree.viewsBelow(this));
  }

  /** Report, once per node, that an encoding sits deeper than the profile follows. */
  protected tooDeep(what: string): void {
    if (this.reportedDepth) return;
    this.reportedDepth = true;
    this.tree.problem({
      code: 'KDLP_DECODE_DEPTH',
      reason: `${what} nested deeper than inspection.maxDecodeDepth (${this.tree.maxDepth})${this.parent?.name ? ` under ${this.parent.name}` : ''}`,
    });
  }

  /** Keep a promise of child work; `settle` waits for all of it. */
  protected track(work: void | Promise<void>): void {
    if (work) this.pendingWork.push(work);
  }

  protected settle(): void | Promise<void> {
    if (this.pendingWork.length === 0) return;
    const all = this.pendingWork.splice(0);
    return Promise.all(all).then(() => this.settle());
  }

  private endStream(): void {
    if (this.deferredBytes > 0) {
      // The whole segment is here: one block scan, no stream.
      const segment = this.deferred!.subarray(0, this.deferredBytes);
      const from = this.deferredFrom;
      this.deferredBytes = 0;
      try {
        this.report(this.tree.meter.time(segment.length, () => this.tree.scanner.scan(segment)), from, from);
      } catch (err) {
        this.failScan(err);
      }
      return;
    }
    if (!this.stream) return;
    const stream = this.stream;
    this.stream = undefined;
    try {
      this.report(this.tree.meter.time(0, () => stream.end()), this.streamBase, this.outBytes);
    } catch (err) {
      this.failScan(err);
    }
  }

  /** Findings at offsets relative to output offset `base`; `writtenFrom`: where the write that produced them began. */
  private report(found: Finding[], base: number, writtenFrom: number): void {
    for (const f of found) {
      const [start, end] = this.toRaw(f.start + base, f.end + base);
      this.tree.found({ finding: this.name === '' ? { ...f, start, end } : { ...f, start, end, view: this.name }, unredactable: this.unredactable() });
    }
    // Later findings start no earlier than a match width before this write,
    // and the watermark never looks below safeOutput: older pieces can go.
    this.trimPieces(Math.min(writtenFrom - 2 * this.tree.tailBytes, this.safeOutput()));
  }

  private failScan(err: unknown): void {
    this.stream = undefined;
    this.deferredBytes = 0;
    const e = err as { code?: string; message?: string };
    this.tree.problem({ code: typeof e?.code === 'string' ? e.code : 'KDLP_SCAN_FAILED', reason: `${this.name || 'raw body'}: ${e?.message ?? 'scan failed'}` });
  }

  private trimPieces(before: number): void {
    let drop = 0;
    while (drop < this.pieces.length - 1 && this.pieces[drop].outEnd <= before) drop++;
    if (drop > 0) this.pieces.splice(0, drop);
  }

  private pieceAt(out: number): Piece | undefined {
    const pieces = this.pieces;
    if (pieces.length === 0) return undefined;
    let lo = 0;
    let hi = pieces.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >>> 1;
      if (pieces[mid].outStart <= out) lo = mid;
      else hi = mid - 1;
    }
    return pieces[lo];
  }
}

/** Output a node scans in one block call at the segment's end instead of an engine stream. */
const DEFERRED_BYTES = 4096;

function clamp(n: number, p: Piece): number {
  return Math.max(0, Math.min(n, p.outEnd - p.outStart));
}
