// Upstreams known to answer an h2 offer with HTTP/1.1, by upstream-session
// key, for a while. A client that offers h2 (curl, Go) gets h2 end to end
// only when the upstream speaks it, which a second upstream handshake
// offering h2 finds out; remembering the answer spares every later such
// client to that upstream that second handshake (and lets it use a pooled
// connection). Forgotten after a while, so an upstream that starts
// speaking h2 is noticed.
const DEFAULT_TTL_MS = 10 * 60 * 1000;
const DEFAULT_MAX_ENTRIES = 1024;

export class Http1OnlyUpstreams {
  private readonly until = new Map<string, number>();

  constructor(
    private readonly ttlMs = DEFAULT_TTL_MS,
    private readonly maxEntries = DEFAULT_MAX_ENTRIES,
    private readonly now: () => number = Date.now,
  ) {}

  has(key: string): boolean {
    const expires = this.until.get(key);
    if (expires === undefined) return false;
    if (expires > this.now()) return true;
    this.until.delete(key);
    return false;
  }

  /** The upstream `key` answered an h2 offer with HTTP/1.1 (or without ALPN). */
  remember(key: string): void {
    this.until.delete(key);
    this.until.set(key, this.now() + this.ttlMs);
    while (this.until.size > this.maxEntries) this.until.delete(this.until.keys().next().value as string);
  }

  /** The upstream `key` now speaks h2. */
  forget(key: string): void {
    this.until.delete(key);
  }
}
