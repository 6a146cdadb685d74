// Hands the native heap's free pages back to the kernel once traffic stops.
//
// A burst of requests grows glibc's heap (http-parser buffers, OpenSSL,
// libhs and RE2 match state, zlib for compressed bodies); when the burst
// ends those chunks are free but the pages stay mapped, because one live
// allocation near the top of the heap keeps glibc from shrinking it. Measured
// on the sidecar (Protect sample, 16 connections of 1 KiB POSTs for 8 s):
// idle RSS 82 MiB before the burst, 98 MiB for as long as it stays quiet
// after it, 84 MiB once malloc_trim(0) has run. A sidecar spends most of its
// life idle between bursts, so that is the figure every pod pays.
//
// The check runs on a timer, not on the request path: each tick compares a
// count of exchanges started with the previous tick's. Trimming walks the
// heap, so it runs once per quiet period, only after a full interval with no
// new exchange and none in flight, never while traffic flows.

export interface IdleActivity {
  /** Exchanges (requests, tunnels, captured connections) started since the process began; only ever grows. */
  readonly exchangesStarted: number;
  /** Exchanges being served right now. */
  readonly activeExchanges: number;
}

export interface ReleaseMemoryWhenIdleOptions {
  activity: IdleActivity;
  /** Hands unused memory back (unused-memory.ts: V8's compaction, then malloc_trim); true when something was released. */
  release(): boolean;
  /** How long traffic must have stopped before releasing. */
  quietMs: number;
  /** Told after each release, with RSS in bytes before and after (for a debug log line). */
  onRelease?(rssBefore: number, rssAfter: number): void;
  rss?(): number;
}

/** Default quiet period: long enough that a steady trickle of requests never triggers it. */
export const DEFAULT_RELEASE_MEMORY_QUIET_MS = 10_000;

export class ReleaseMemoryWhenIdle {
  private timer: NodeJS.Timeout | undefined;
  private seen: number;
  /** Exchanges ran since the last release (or since start-up, whose own release happened after compiling). */
  private pending = false;

  constructor(private readonly opts: ReleaseMemoryWhenIdleOptions) {
    this.seen = opts.activity.exchangesStarted;
  }

  start(): void {
    if (this.timer || this.opts.quietMs <= 0) return;
    this.timer = setInterval(() => this.tick(), this.opts.quietMs);
    this.timer.unref();
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
  }

  /** One check; the timer calls it every `quietMs`. Public so tests can drive it without waiting. */
  tick(): void {
    const { exchangesStarted, activeExchanges } = this.opts.activity;
    if (exchangesStarted !== this.seen) {
      this.seen = exchangesStarted;
      this.pending = true;
      return;
    }
    if (!this.pending || activeExchanges > 0) return;
    this.pending = false;
    const rss = this.opts.rss ?? (() => process.memoryUsage.rss());
    const before = rss();
    this.opts.release();
    this.opts.onRelease?.(before, rss());
  }
}
