// Minted leaves by (CA, host), bounded, least recently used first out. A
// mint in progress is shared by every handshake asking for the same host,
// so a burst of new connections to one host costs one signature.
import type { InterceptCa, MintedLeaf } from './intercept-ca';

/** Leaves are re-minted this long before they expire, so no client ever sees an almost-expired one. */
const RENEW_BEFORE_MS = 60 * 60 * 1000;

export interface LeafCacheOptions {
  /** Most leaves kept. Default 1024 (about 1.5 KiB each). */
  maxEntries?: number;
  now?: () => number;
}

export class LeafCache<T = MintedLeaf> {
  private readonly entries = new Map<string, Promise<{ leaf: MintedLeaf; value: T }>>();
  private readonly maxEntries: number;
  private readonly now: () => number;
  hits = 0;
  misses = 0;

  constructor(
    /** Turns a minted leaf into what handshakes use (a SecureContext); done once per leaf. */
    private readonly prepare: (leaf: MintedLeaf) => T,
    opts: LeafCacheOptions = {},
  ) {
    this.maxEntries = Math.max(1, opts.maxEntries ?? 1024);
    this.now = opts.now ?? Date.now;
  }

  get size(): number {
    return this.entries.size;
  }

  async get(ca: InterceptCa, host: string): Promise<T> {
    const key = `${ca.fingerprint}\u0000${host}`;
    const cached = this.entries.get(key);
    if (cached) {
      const entry = await cached.catch(() => undefined);
      if (entry && entry.leaf.notAfter.getTime() - RENEW_BEFORE_MS > this.now()) {
        this.hits++;
        if (this.entries.get(key) === cached) {
          // Refresh recency.
          this.entries.delete(key);
          this.entries.set(key, cached);
        }
        return entry.value;
      }
      if (this.entries.get(key) === cached) this.entries.delete(key);
    }
    this.misses++;
    const minting = ca.mint(host, new Date(this.now())).then((leaf) => ({ leaf, value: this.prepare(leaf) }));
    this.entries.set(key, minting);
    // A failed mint is not cached: the next handshake tries again.
    minting.catch(() => {
      if (this.entries.get(key) === minting) this.entries.delete(key);
    });
    while (this.entries.size > this.maxEntries) {
      const oldest = this.entries.keys().next().value as string;
      this.entries.delete(oldest);
    }
    return (await minting).value;
  }

  /** Drop every leaf (CA rotated: leaves of the old CA are never handed out again). */
  clear(): void {
    this.entries.clear();
  }
}
