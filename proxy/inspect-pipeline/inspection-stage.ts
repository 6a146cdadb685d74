// The one inspection stage for request and response bodies.
//
// Rule (scan-before-send watermark): the forwarder receives raw byte N only
// after every view of the body up to byte N (the raw bytes, the content
// decoding, base64/percent/form/JSON-escape views and compression inside
// them, to inspection.maxDecodeDepth) has been scanned, and after the
// engines' tail, so a secret is found before its last byte leaves.
//
// The first `holdBackBytes` are held before anything moves: a body that ends
// inside that window is decided as one message (a clean 403 or an exact
// redaction, Content-Length included), a larger one is decided on its window
// and then streams under the watermark. A raw finding whose bytes have not
// been released yet is still redacted in place; anything else that blocks
// after forwarding began stops the body (the caller aborts the exchange).
import { Readable } from 'node:stream';
import type { RuntimeConfig } from '../profile';
import { parseContentEncoding, type ContentCoding } from '../scan/decode';
import type { Finding } from '../scan/types';
import { inspectCompleteBody, type BodyHeaders } from './body-scan';
import { holdBack } from './hold-back';
import { KeptFindings } from './kept-findings';
import { asUninspectable, enabledDecoders, type ScanMeter } from './scan-support';
import type { FindingPlace, LocatedFinding, Uninspectable, Verdict } from './verdict';
import { ViewTree } from './views/view-tree';
import type { ViewFinding } from './views/view-node';

/** Engines report a finding within this many bytes; a longer tail only adds latency. */
const MAX_TAIL_BYTES = 64 * 1024;
/**
 * Findings kept per body for the verdict, metrics and the audit line. The
 * bound keeps a body full of cards from growing the list without limit;
 * past it the newest replaces the last (the verdict needs only one per detector).
 */
const MAX_KEPT_FINDINGS = 4096;

/** The verdict on the body's findings so far, together with what came before it (URL, headers). */
export type BodyJudge = (findings: readonly LocatedFinding[], problem: Uninspectable | undefined) => Verdict;

export interface InspectBodyOptions {
  cfg: RuntimeConfig;
  meter: ScanMeter;
  place: FindingPlace;
  headers: BodyHeaders;
  /** The body, not yet read. */
  source: Readable;
  judge: BodyJudge;
  /**
   * Called whenever new findings or problems arrive after the first
   * verdict. When the verdict blocks, the stage has stopped the body and
   * `forwarded` tells whether any of it had left.
   */
  onUpdate(verdict: Verdict, forwarded: boolean): void;
}

export type FirstLook =
  | { kind: 'unreadable' }
  /** The body ended inside the window: `body` is the whole (redacted when the verdict says so) message. */
  | { kind: 'complete'; verdict: Verdict; body: Buffer; bytes: number }
  | { kind: 'streaming'; verdict: Verdict; body: InspectionStage };

export async function inspectBody(opts: InspectBodyOptions): Promise<FirstLook> {
  const { cfg, source } = opts;
  let window;
  try {
    window = await holdBack(source, Math.max(1, cfg.spec.inspection.holdBackBytes));
  } catch {
    return { kind: 'unreadable' };
  }
  const prefix = window.chunks.length === 1 ? window.chunks[0] : Buffer.concat(window.chunks, window.bytes);
  if (window.complete) {
    const result = inspectCompleteBody(cfg, opts.meter, prefix, opts.headers, opts.place);
    const verdict = opts.judge(result.findings, result.uninspectable);
    let body = prefix;
    if (verdict.outcome === 'redact') {
      const mine = verdict.toRedact.filter((f) => f.place === opts.place).map((f) => f.finding);
      if (mine.length > 0) body = cfg.scanner.redact(prefix, mine);
    }
    return { kind: 'complete', verdict, body, bytes: prefix.length };
  }
  const stage = new InspectionStage(opts);
  const verdict = await stage.start(prefix);
  return { kind: 'streaming', verdict, body: stage };
}

/** The forwarded body of a message larger than the window. */
export class InspectionStage extends Readable {
  private readonly tree?: ViewTree;
  private readonly kept = new KeptFindings(MAX_KEPT_FINDINGS);
  private problem?: Uninspectable;
  /** Raw bytes received, and released to the forwarder. */
  private received = 0;
  private released = 0;
  private pending: Buffer[] = [];
  private pendingBytes = 0;
  private readonly tailBytes: number;
  private readonly maxBodyBytes: number;
  /** New findings or a problem since the last verdict. */
  private news = false;
  private verdict?: Verdict;
  private readonly unredactable?: string;
  private sourceWanted = true;
  private busy = false;
  private finished = false;
  private stopped = false;

  constructor(private readonly opts: InspectBodyOptions) {
    super();
    const { cfg } = opts;
    const inspection = cfg.spec.inspection;
    this.tailBytes = Math.min(cfg.scanner.maxMatchWidth, MAX_TAIL_BYTES);
    this.maxBodyBytes = inspection.maxBodyBytes;
    // Outermost first: the order they are undone in.
    let codings: ContentCoding[] = [];
    try {
      codings = parseContentEncoding(opts.headers.contentEncoding);
    } catch (err) {
      // Unknown coding: the bytes are still scanned as they are (a false label on plain text is an evasion).
      this.problem = asUninspectable(err);
    }
    if (codings.length > 0) this.unredactable = `compressed body (content-encoding ${[...codings].reverse().join(', ')})`;
    this.tree = new ViewTree({
      scanner: cfg.scanner,
      meter: opts.meter,
      maxDepth: inspection.maxDecodeDepth,
      tailBytes: this.tailBytes,
      limits: { maxOutputBytes: Math.max(1, inspection.maxDecodedBytes), maxRatio: Math.max(1, inspection.maxDecompressionRatio), ratioGraceBytes: 1024 * 1024 },
      enabled: enabledDecoders(cfg),
      undoCodings: codings,
      form: /^\s*application\/x-www-form-urlencoded\s*(;|$)/i.test(opts.headers.contentType ?? ''),
      found: (f) => this.found(f),
      problem: (u) => this.noteProblem(u),
    });
  }

  /** Bytes of the body read from the source so far. */
  get bytesReceived(): number {
    return this.received;
  }

  /** Scan the window and give the first verdict; nothing has been released yet. */
  async start(prefix: Buffer): Promise<Verdict> {
    await this.ingest(prefix);
    this.news = false;
    this.verdict = this.opts.judge(this.kept.list, this.problem);
    if (this.verdict.outcome === 'redact') this.redactPending(this.verdict);
    if (this.verdict.outcome === 'block') this.halt();
    return this.verdict;
  }

  /** Stop forwarding (blocked, or the exchange ended): nothing more is pushed. */
  halt(): void {
    if (this.stopped) return;
    this.stopped = true;
    this.tree?.destroy();
    const source = this.opts.source;
    source.pause();
    this.pending = [];
    this.pendingBytes = 0;
    if (!this.destroyed) this.destroy();
  }

  override _read(): void {
    if (this.stopped) return;
    this.sourceWanted = true;
    if (!this.attached) {
      this.attach();
      return;
    }
    if (!this.busy && !this.finished) this.opts.source.resume();
  }

  override _destroy(err: Error | null, callback: (error?: Error | null) => void): void {
    this.stopped = true;
    this.tree?.destroy();
    const source = this.opts.source;
    if (!source.readableEnded) source.pause();
    callback(err);
  }

  private attached = false;

  private attach(): void {
    this.attached = true;
    const source = this.opts.source;
    source.on('data', (chunk: Buffer) => {
      source.pause();
      this.busy = true;
      void this.ingest(chunk).then(() => {
        this.busy = false;
        if (this.stopped) return;
        this.afterChunk();
        if (!this.stopped && this.sourceWanted) source.resume();
      });
    });
    source.once('end', () => void this.finish());
    const onFailure = (): void => {
      if (!this.finished && !this.stopped) this.destroy(new Error('body could not be read'));
    };
    source.once('aborted', onFailure);
    source.once('error', onFailure);
    source.once('close', () => {
      if (!source.readableEnded) onFailure();
    });
    this.release(this.safeOffset());
    source.resume();
  }

  /** Scan a chunk through every view and queue it (unreleased). */
  private async ingest(chunk: Buffer): Promise<void> {
    const start = this.received;
    this.received += chunk.length;
    this.pending.push(chunk);
    this.pendingBytes += chunk.length;
    if (!this.tree || start >= this.maxBodyBytes) return;
    const inspectable = start + chunk.length > this.maxBodyBytes ? chunk.subarray(0, this.maxBodyBytes - start) : chunk;
    if (inspectable.length < chunk.length) {
      this.noteProblem({ code: 'KDLP_BODY_TOO_LARGE', reason: `body larger than maxBodyBytes (${this.maxBodyBytes})` });
    }
    const work = this.tree.write(inspectable);
    if (work) await work;
    if (inspectable.length < chunk.length) await this.endTree();
  }

  private treeEnded = false;

  private async endTree(): Promise<void> {
    if (this.treeEnded || !this.tree) return;
    this.treeEnded = true;
    const work = this.tree.end();
    if (work) await work;
  }

  /** Where the watermark stands: every view scanned below it. */
  private safeOffset(): number {
    if (this.treeEnded || this.received > this.maxBodyBytes) return this.received;
    return Math.min(this.received, this.tree?.safe ?? this.received);
  }

  private afterChunk(): void {
    if (this.news) this.rejudge();
    if (this.stopped) return;
    this.release(this.safeOffset());
  }

  private async finish(): Promise<void> {
    if (this.stopped) return;
    while (this.busy) await new Promise((r) => setImmediate(r));
    await this.endTree();
    this.finished = true;
    if (this.stopped) return;
    if (this.news) this.rejudge();
    if (this.stopped) return;
    this.release(this.received);
    this.push(null);
  }

  private rejudge(): void {
    this.news = false;
    const verdict = this.opts.judge(this.kept.list, this.problem);
    this.verdict = verdict;
    if (verdict.outcome === 'redact') this.redactPending(verdict);
    const forwarded = this.released > 0;
    if (verdict.outcome === 'block') this.halt();
    this.opts.onUpdate(verdict, forwarded);
  }

  private found(f: ViewFinding): void {
    const { finding } = f;
    // A view repeats the plain bytes around an escape: the raw finding already covers them.
    if (finding.view !== undefined && this.kept.overlapsRaw(finding)) return;
    if (this.kept.has(finding)) return;
    const unredactable = f.unredactable ?? this.unredactable;
    const located: LocatedFinding = {
      finding,
      place: this.opts.place,
      unredactable,
      // Part of its bytes already left: masking now would be too late.
      late: finding.start < this.released || undefined,
    };
    this.news = true;
    this.kept.add(located);
  }

  private noteProblem(u: Uninspectable): void {
    if (this.problem) return;
    this.problem = u;
    this.news = true;
  }

  /** Mask raw findings the verdict redacts in bytes not yet released. */
  private redactPending(verdict: Verdict): void {
    const spans = verdict.toRedact.filter((f) => f.place === this.opts.place && f.finding.end > this.released).map((f) => f.finding);
    if (spans.length === 0 || this.pending.length === 0) return;
    let at = this.received - this.pendingBytes;
    this.pending = this.pending.map((chunk) => {
      const from = at;
      at += chunk.length;
      const here: Finding[] = [];
      for (const f of spans) {
        if (f.end <= from || f.start >= at) continue;
        here.push({ ...f, start: Math.max(0, f.start - from), end: Math.min(chunk.length, f.end - from) });
      }
      return here.length > 0 ? this.opts.cfg.scanner.redact(chunk, here) : chunk;
    });
  }

  /** Push pending bytes below `upTo` to the forwarder. */
  private release(upTo: number): void {
    let excess = upTo - this.released;
    let full = false;
    while (excess > 0 && this.pending.length > 0) {
      const head = this.pending[0];
      const piece = head.length <= excess ? head : head.subarray(0, excess);
      if (head.length <= excess) this.pending.shift();
      else this.pending[0] = head.subarray(excess);
      this.pendingBytes -= piece.length;
      this.released += piece.length;
      excess -= piece.length;
      if (!this.push(piece)) full = true;
    }
    if (full) {
      this.sourceWanted = false;
      this.opts.source.pause();
    }
  }
}
