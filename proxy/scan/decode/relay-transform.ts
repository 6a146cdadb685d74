// A Transform that hands its work to an inner chain of streams (zlib
// decompressors). Node's `compose` would do the plumbing but returns a
// Duplex; callers of the decoders want a Transform, and we want to watch
// every output chunk before it leaves so a bomb is stopped mid-stream.
import { Transform, type Duplex, type TransformCallback, type TransformOptions } from 'node:stream';

export abstract class RelayTransform extends Transform {
  private chain: Duplex[] = [];
  private tailPaused = false;
  private flushCallback: TransformCallback | null = null;

  constructor(options?: TransformOptions) {
    super(options);
  }

  /**
   * Connect the chain: our input goes to chain[0], each stage is piped to the
   * next, the last stage's output becomes ours. Call once, before any chunk
   * reaches `_transform`. `mapError` turns a stage's error into ours.
   */
  protected attach(chain: Duplex[], mapError: (err: Error, stage: number) => Error): void {
    if (this.chain.length > 0) throw new Error('RelayTransform chain already attached');
    if (chain.length === 0) throw new Error('RelayTransform needs at least one stage');
    this.chain = chain;
    chain.forEach((stage, i) => {
      stage.on('error', (err: Error) => this.destroy(mapError(err, i)));
      if (i + 1 < chain.length) stage.pipe(chain[i + 1]);
    });
    const tail = chain[chain.length - 1];
    tail.on('data', (chunk: Buffer) => {
      if (this.destroyed) return;
      const stop = this.checkOutput(chunk);
      if (stop) {
        this.destroy(stop);
        return;
      }
      // Our reader is slow: stop the tail so decompression waits too,
      // instead of piling decoded bytes up in memory.
      if (!this.push(chunk)) {
        this.tailPaused = true;
        tail.pause();
      }
    });
    tail.on('end', () => {
      const callback = this.flushCallback;
      this.flushCallback = null;
      callback?.();
    });
  }

  protected get attached(): boolean {
    return this.chain.length > 0;
  }

  /** Called with each output chunk before it is pushed; return an error to stop everything. */
  protected checkOutput(_chunk: Buffer): Error | null {
    return null;
  }

  override _transform(chunk: Buffer, _encoding: BufferEncoding, callback: TransformCallback): void {
    this.relay(chunk, callback);
  }

  /** Hand `chunk` to the chain; `callback` runs once the chain can take more. */
  protected relay(chunk: Buffer, callback: TransformCallback): void {
    const head = this.chain[0];
    // Accept the next input only once the head has room: the head in turn
    // only consumes when its output is read, which closes the loop.
    if (head.write(chunk)) callback();
    else head.once('drain', () => callback());
  }

  override _flush(callback: TransformCallback): void {
    if (!this.attached) {
      callback();
      return;
    }
    this.flushCallback = callback;
    this.chain[0].end();
  }

  override _read(size: number): void {
    if (this.tailPaused) {
      this.tailPaused = false;
      this.chain[this.chain.length - 1].resume();
    }
    super._read(size);
  }

  override _destroy(err: Error | null, callback: (error?: Error | null) => void): void {
    // Destroying the zlib stages frees their native state and stops any
    // further inflation right away: this is what bounds a bomb's memory.
    for (const stage of this.chain) stage.destroy();
    this.flushCallback = null;
    callback(err);
  }
}
