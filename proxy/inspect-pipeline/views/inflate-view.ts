// A decompression view: a declared Content-Encoding layer, an unlabelled
// body that sniffs as gzip/zlib, or compressed data inside a base64 run.
// zlib runs off-thread, so write() resolves once zlib has consumed the chunk
// and everything it produced (and every view below) has been scanned. All
// output of one write maps to that write's input span, which is exact enough
// for the watermark: input before the write decodes to nothing newer.
import * as zlib from 'node:zlib';
import type { Transform } from 'node:stream';
import { OffsetMapBuilder } from '../../scan/decode/offset-map';
import { hasZlibHeader } from '../../scan/decode/zlib-format';
import { ViewNode, type TreeContext } from './view-node';

export type Compression = 'gzip' | 'deflate' | 'br';

export class InflateView extends ViewNode {
  private z?: Transform;
  private inBytes = 0;
  private writeStart = 0;
  private first: Buffer | undefined;
  private stopped = false;
  private ended?: Promise<void>;
  private readonly waiting = new Set<() => void>();

  constructor(
    tree: TreeContext,
    private readonly kind: Compression,
    /** From Content-Encoding: failures are uninspectable. Sniffed: a failure only means it was not compressed after all. */
    private readonly declared: boolean,
    name: string,
    depth: number,
    parent: ViewNode,
  ) {
    super(tree, name, depth, parent, false);
    // Made for one base64 run, it starts where the parent's output is now.
    this.inBytes = parent.outBytes;
  }

  write(chunk: Buffer): void | Promise<void> {
    if (this.stopped || chunk.length === 0) {
      this.inBytes += chunk.length;
      return;
    }
    if (!this.z) {
      // Raw deflate or zlib-wrapped: two bytes tell.
      const start = this.first ? Buffer.concat([this.first, chunk]) : chunk;
      this.inBytes += chunk.length;
      if (this.kind === 'deflate' && start.length < 2) {
        this.first = Buffer.from(start);
        return;
      }
      this.first = undefined;
      this.open(start);
      return this.feed(start, this.inBytes - start.length);
    }
    this.inBytes += chunk.length;
    return this.feed(chunk, this.inBytes - chunk.length);
  }

  flush(): void | Promise<void> {
    if (!this.ended) {
      if (this.first && !this.stopped) {
        this.open(this.first);
        this.track(this.feed(this.first, this.inBytes - this.first.length));
        this.first = undefined;
      }
      const z = this.z;
      this.ended =
        z && !this.stopped
          ? new Promise<void>((resolve) => {
              z.once('end', resolve);
              z.once('close', resolve);
              z.once('error', () => resolve());
              z.end();
            })
          : Promise.resolve();
    }
    return this.ended.then(() => {
      this.track(this.endSegment());
      return this.settle();
    });
  }

  safeInput(): number {
    if (this.stopped) return this.inBytes;
    const safe = this.safeOutput();
    if (safe >= this.outBytes) return this.inBytes - (this.first?.length ?? 0);
    return Math.min(this.inBytes, this.parentOffsetOf(safe) ?? this.inBytes);
  }

  override destroy(): void {
    this.stopped = true;
    this.z?.destroy();
    this.releaseWaiting();
    super.destroy();
  }

  protected override unredactable(): string {
    return this.declared ? `compressed body (content-encoding ${this.kind})` : `only visible in a decoded view (${this.name})`;
  }

  private open(start: Buffer): void {
    const z =
      this.kind === 'gzip'
        ? zlib.createGunzip()
        : this.kind === 'br'
          ? zlib.createBrotliDecompress()
          : hasZlibHeader(start) || !this.declared
            ? zlib.createInflate()
            : zlib.createInflateRaw();
    this.z = z;
    const { maxOutputBytes, maxRatio, ratioGraceBytes } = this.tree.limits;
    z.on('data', (out: Buffer) => {
      if (this.stopped) return;
      const total = this.outBytes + out.length;
      const consumed = Math.max(1, (z as unknown as { bytesWritten: number }).bytesWritten);
      if (total > maxOutputBytes || (total > ratioGraceBytes && total / consumed > maxRatio)) {
        this.fail('KDLP_DECODE_BOMB', total > maxOutputBytes ? `output exceeds maxDecodedBytes ${maxOutputBytes}` : `output/input ratio exceeds maxDecompressionRatio ${maxRatio}`, true);
        return;
      }
      const map = new OffsetMapBuilder();
      map.unit(out.length, this.writeStart, Math.max(1, this.inBytes - this.writeStart));
      this.track(this.emit(out, map.build(), 0));
    });
    z.on('close', () => this.releaseWaiting());
    z.on('error', (err: Error) => {
      this.releaseWaiting();
      if (this.stopped) return;
      this.fail('KDLP_DECODE_CORRUPT', `invalid ${this.kind} data (${(err as { code?: string }).code ?? 'zlib error'})`, this.declared);
    });
  }

  private feed(chunk: Buffer, at: number): Promise<void> {
    const z = this.z!;
    this.writeStart = at;
    return new Promise<void>((resolve) => {
      if (z.destroyed) return resolve();
      this.waiting.add(resolve);
      z.write(chunk, () => {
        this.waiting.delete(resolve);
        resolve();
      });
    }).then(() => this.settle());
  }

  /** A failed or destroyed stream may never call back: release whoever waits. */
  private releaseWaiting(): void {
    for (const resolve of this.waiting) resolve();
    this.waiting.clear();
  }

  private fail(code: string, reason: string, uninspectable: boolean): void {
    this.stopped = true;
    if (uninspectable) this.tree.problem({ code, reason: `${this.name}: ${reason}` });
    this.z?.destroy();
  }
}
