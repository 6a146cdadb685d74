// HTTP `deflate` is zlib-wrapped (RFC 9110 §8.4.1.2), yet some servers send
// raw deflate. This stage looks at the first two bytes and inflates with the
// matching decoder.
import * as zlib from 'node:zlib';
import type { TransformCallback, TransformOptions } from 'node:stream';
import { RelayTransform } from './relay-transform';
import { hasZlibHeader } from './zlib-format';

export class AutoInflate extends RelayTransform {
  private pending: Buffer | null = null;
  private inflater: zlib.Inflate | zlib.InflateRaw | null = null;

  constructor(options?: TransformOptions) {
    super(options);
  }

  /** Compressed bytes consumed so far (same meaning as zlib's `bytesWritten`). */
  get bytesWritten(): number {
    return this.inflater?.bytesWritten ?? 0;
  }

  override _transform(chunk: Buffer, _encoding: BufferEncoding, callback: TransformCallback): void {
    if (this.inflater === null) {
      const start = this.pending ? Buffer.concat([this.pending, chunk]) : chunk;
      if (start.length < 2) {
        this.pending = start;
        callback();
        return;
      }
      this.pending = null;
      this.begin(hasZlibHeader(start));
      chunk = start;
    }
    this.relay(chunk, callback);
  }

  override _flush(callback: TransformCallback): void {
    if (this.inflater === null && this.pending !== null) {
      // One byte in total cannot be a valid stream of either kind; let the
      // raw inflater say so rather than inventing an error here.
      const start = this.pending;
      this.pending = null;
      this.begin(false);
      this.relay(start, (err) => (err ? callback(err) : super._flush(callback)));
      return;
    }
    super._flush(callback);
  }

  private begin(zlibWrapped: boolean): void {
    this.inflater = zlibWrapped ? zlib.createInflate() : zlib.createInflateRaw();
    // The owner maps errors to its own codes; pass zlib's through untouched.
    this.attach([this.inflater], (err) => err);
  }
}
