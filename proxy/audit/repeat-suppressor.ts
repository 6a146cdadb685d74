// Folds repeated identical audit events into one summary per window, so a
// client that retries a blocked upload in a loop cannot flood the audit log
// (or the disk under it). The first event of a window is always emitted; the
// rest are counted and reported once the window closes.

export interface SuppressionSummary<T> {
  key: string;
  /** The most recent suppressed event, for its descriptive fields. */
  sample: T;
  suppressed: number;
  windowStart: number;
  windowEnd: number;
}

export interface RepeatSuppressorOptions<T> {
  windowMs: number;
  /** Distinct keys tracked at once; the oldest is summarised and dropped past this. */
  maxKeys: number;
  onSummary: (summary: SuppressionSummary<T>) => void;
  now?: () => number;
}

interface Window<T> {
  start: number;
  suppressed: number;
  sample: T;
}

export class RepeatSuppressor<T> {
  private readonly windows = new Map<string, Window<T>>();
  private readonly now: () => number;

  constructor(private readonly opts: RepeatSuppressorOptions<T>) {
    this.now = opts.now ?? Date.now;
  }

  /** True when the event should be written, false when it was counted instead. */
  admit(key: string, event: T): boolean {
    const now = this.now();
    const open = this.windows.get(key);
    if (open !== undefined && now - open.start < this.opts.windowMs) {
      open.suppressed++;
      open.sample = event;
      return false;
    }
    if (open !== undefined) {
      this.close(key, open, now);
    } else if (this.windows.size >= this.opts.maxKeys) {
      this.evictOldest(now);
    }
    this.windows.set(key, { start: now, suppressed: 0, sample: event });
    return true;
  }

  /** Summarise windows that have expired (all of them when `everything`). */
  flush(everything = false): void {
    const now = this.now();
    for (const [key, window] of this.windows) {
      if (everything || now - window.start >= this.opts.windowMs) this.close(key, window, now);
    }
  }

  get trackedKeys(): number {
    return this.windows.size;
  }

  private evictOldest(now: number): void {
    // Map iteration order is insertion order: the first entry is the oldest window.
    const first = this.windows.entries().next();
    if (!first.done) this.close(first.value[0], first.value[1], now);
  }

  private close(key: string, window: Window<T>, now: number): void {
    this.windows.delete(key);
    if (window.suppressed > 0) {
      this.opts.onSummary({ key, sample: window.sample, suppressed: window.suppressed, windowStart: window.start, windowEnd: now });
    }
  }
}
