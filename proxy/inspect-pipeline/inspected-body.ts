// The body as it is forwarded: the (possibly redacted) hold-back window,
// then the rest of the source, each chunk scanned before it is released.
//
// Two guarantees:
// - backpressure both ways: when the consumer (the upstream request) is
//   full, push() returns false and the source is paused until _read() asks
//   again; when the decoder lags, the source waits for its 'drain';
// - a short tail (the engine's longest match) is always held back, so a
//   secret straddling the last chunks has not been fully forwarded when the
//   engine reports it, and the upstream never sees a complete message with
//   a late finding: end-of-body waits for the final scan (and the decoder).
import { Readable } from 'node:stream';
import type { ChunkInspection, StreamingBodyScan } from './streaming-scan';

export interface InspectedBodyOptions {
  /** Already inspected (and redacted if needed) bytes to send first. */
  prefix: Buffer;
  /** The rest of the body, paused. (A body that ended inside the window is forwarded as a plain buffer instead.) */
  source: Readable;
  scan?: StreamingBodyScan;
  /** Bytes kept back at the end of what has been scanned. */
  tailBytes: number;
  /**
   * Findings or problems in streamed data. Return true to stop the body
   * (the caller aborts the exchange); false to carry on.
   */
  onInspection(result: ChunkInspection): boolean;
}

export class InspectedBody extends Readable {
  private prefixSent = false;
  private attached = false;
  private tail: Buffer[] = [];
  private tailLength = 0;
  private sourcePaused = false;
  private ending = false;
  private stoppedByInspection = false;
  /** Bytes read from the source after the prefix. */
  sourceBytes = 0;

  constructor(private readonly opts: InspectedBodyOptions) {
    super();
  }

  /** The body was stopped because of an inspection result. */
  get stopped(): boolean {
    return this.stoppedByInspection;
  }

  override _read(): void {
    if (!this.prefixSent) {
      this.prefixSent = true;
      if (this.opts.prefix.length > 0) this.push(this.opts.prefix);
    }
    if (!this.attached) {
      this.attach(this.opts.source);
      return;
    }
    if (this.sourcePaused && !this.ending) {
      this.sourcePaused = false;
      this.opts.source.resume();
    }
  }

  override _destroy(err: Error | null, callback: (error?: Error | null) => void): void {
    this.opts.scan?.destroy();
    const source = this.opts.source;
    if (!source.readableEnded) source.pause();
    callback(err);
  }

  /** Stop forwarding because of a finding: nothing more is pushed. */
  stop(): void {
    this.stoppedByInspection = true;
    this.destroy();
  }

  private attach(source: Readable): void {
    this.attached = true;
    const scan = this.opts.scan;
    source.on('data', (chunk: Buffer) => {
      this.sourceBytes += chunk.length;
      if (this.destroyed) return;
      if (scan) {
        const result = scan.write(chunk);
        if ((result.findings.length > 0 || result.uninspectable) && this.opts.onInspection(result)) {
          this.stop();
          return;
        }
        const lagging = scan.decoderBackpressure;
        if (lagging) {
          this.pauseSource();
          lagging.once('drain', () => {
            if (!this.destroyed && !this.ending) {
              this.sourcePaused = false;
              source.resume();
            }
          });
        }
      }
      this.release(chunk);
    });
    source.once('end', () => {
      this.ending = true;
      void this.finish();
    });
    const onFailure = (): void => {
      if (!this.destroyed && !this.ending) this.destroy(new Error('request body could not be read'));
    };
    source.once('aborted', onFailure);
    source.once('error', onFailure);
    source.once('close', () => {
      if (!source.readableEnded) onFailure();
    });
    source.resume();
  }

  private async finish(): Promise<void> {
    const scan = this.opts.scan;
    if (scan) {
      const result = await scan.end();
      if (this.destroyed) return;
      if ((result.findings.length > 0 || result.uninspectable) && this.opts.onInspection(result)) {
        this.stop();
        return;
      }
    }
    if (this.destroyed) return;
    for (const piece of this.tail) this.push(piece);
    this.tail = [];
    this.tailLength = 0;
    this.push(null);
  }

  /** Queue a scanned chunk and push everything older than the tail window. */
  private release(chunk: Buffer): void {
    this.tail.push(chunk);
    this.tailLength += chunk.length;
    let excess = this.tailLength - this.opts.tailBytes;
    let full = false;
    while (excess > 0 && this.tail.length > 0) {
      const head = this.tail[0];
      if (head.length <= excess) {
        this.tail.shift();
        this.tailLength -= head.length;
        excess -= head.length;
        if (!this.push(head)) full = true;
      } else {
        this.tail[0] = head.subarray(excess);
        this.tailLength -= excess;
        if (!this.push(head.subarray(0, excess))) full = true;
        excess = 0;
      }
    }
    if (full) this.pauseSource();
  }

  private pauseSource(): void {
    if (this.sourcePaused) return;
    this.sourcePaused = true;
    this.opts.source.pause();
  }
}
