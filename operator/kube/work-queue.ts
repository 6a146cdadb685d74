// A work queue of keys, with controller-runtime's guarantees:
// - a key is queued at most once however often it is added (dedupe);
// - a key is never processed by two workers at once: added while in
//   process, it is processed again afterwards (so no change is lost);
// - failures back off exponentially per key, reset by forget();
// - addAfter() coalesces: the earliest pending time wins.
import { QueueShutDownError } from '../errors';

export interface WorkQueueOptions {
  /** First retry delay after a failure. Default 100 ms. */
  baseDelayMs?: number;
  /** Retry delay cap. Default 60 s. */
  maxDelayMs?: number;
}

export class WorkQueue {
  private readonly queue: string[] = [];
  private head = 0;
  private readonly queued = new Set<string>();
  private readonly processing = new Set<string>();
  /** Added while processing: queue again when done. */
  private readonly dirty = new Set<string>();
  private readonly failures = new Map<string, number>();
  private readonly timers = new Map<string, { at: number; timer: NodeJS.Timeout }>();
  private readonly waiters: ((key: string | undefined) => void)[] = [];
  private shuttingDown = false;
  private readonly baseDelayMs: number;
  private readonly maxDelayMs: number;

  constructor(
    readonly name: string,
    opts: WorkQueueOptions = {},
  ) {
    this.baseDelayMs = opts.baseDelayMs ?? 100;
    this.maxDelayMs = opts.maxDelayMs ?? 60_000;
  }

  /** Keys waiting (not counting those in process or delayed). */
  get length(): number {
    return this.queue.length - this.head;
  }

  get inProcess(): number {
    return this.processing.size;
  }

  /** Nothing queued, delayed or in process. */
  get idle(): boolean {
    return this.length === 0 && this.processing.size === 0 && this.timers.size === 0;
  }

  add(key: string): void {
    if (this.shuttingDown) return;
    const pending = this.timers.get(key);
    if (pending) {
      clearTimeout(pending.timer);
      this.timers.delete(key);
    }
    if (this.processing.has(key)) {
      this.dirty.add(key);
      return;
    }
    if (this.queued.has(key)) return;
    this.queued.add(key);
    const waiter = this.waiters.shift();
    if (waiter) {
      this.queued.delete(key);
      this.processing.add(key);
      waiter(key);
      return;
    }
    this.queue.push(key);
  }

  addAfter(key: string, delayMs: number): void {
    if (this.shuttingDown) return;
    if (delayMs <= 0) return this.add(key);
    const at = Date.now() + delayMs;
    const pending = this.timers.get(key);
    if (pending && pending.at <= at) return;
    if (pending) clearTimeout(pending.timer);
    const timer = setTimeout(() => {
      this.timers.delete(key);
      this.add(key);
    }, delayMs);
    timer.unref();
    this.timers.set(key, { at, timer });
  }

  /** Requeues after the key's next backoff delay; returns that delay. */
  addRateLimited(key: string): number {
    const n = this.failures.get(key) ?? 0;
    this.failures.set(key, n + 1);
    const delay = Math.min(this.baseDelayMs * 2 ** n, this.maxDelayMs);
    this.addAfter(key, delay);
    return delay;
  }

  /** The key succeeded (or failed for good): its next failure starts from the base delay again. */
  forget(key: string): void {
    this.failures.delete(key);
  }

  failuresOf(key: string): number {
    return this.failures.get(key) ?? 0;
  }

  /** The next key, waiting for one; rejects with QueueShutDownError once shut down and drained. */
  async get(): Promise<string> {
    if (this.length > 0) {
      const key = this.queue[this.head++]!;
      if (this.head > 1024 && this.head * 2 > this.queue.length) {
        this.queue.splice(0, this.head);
        this.head = 0;
      }
      this.queued.delete(key);
      this.processing.add(key);
      return key;
    }
    if (this.shuttingDown) throw new QueueShutDownError();
    const key = await new Promise<string | undefined>((resolve) => this.waiters.push(resolve));
    if (key === undefined) throw new QueueShutDownError();
    return key;
  }

  /** Must follow every get(): releases the key, and requeues it if it was added meanwhile. */
  done(key: string): void {
    this.processing.delete(key);
    if (this.dirty.delete(key)) this.add(key);
  }

  /** Stops handing out keys: waiting get() calls reject; delayed keys are dropped. */
  shutDown(): void {
    this.shuttingDown = true;
    for (const { timer } of this.timers.values()) clearTimeout(timer);
    this.timers.clear();
    for (const waiter of this.waiters.splice(0)) waiter(undefined);
  }

  /**
   * Runs `concurrency` workers until shutDown(). `handler` errors are the
   * caller's to handle (it decides between forget and addRateLimited); a
   * throw here is logged by the caller's handler, never lost.
   */
  async run(concurrency: number, handler: (key: string) => Promise<void>): Promise<void> {
    const worker = async (): Promise<void> => {
      for (;;) {
        let key: string;
        try {
          key = await this.get();
        } catch (err) {
          if (err instanceof QueueShutDownError) return;
          throw err;
        }
        try {
          await handler(key);
        } finally {
          this.done(key);
        }
      }
    };
    await Promise.all(Array.from({ length: concurrency }, worker));
  }
}
