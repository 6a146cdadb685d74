// TLS sessions of intercepted upstreams, by (address, port, server name),
// bounded, least recently used first out. Every intercepted client
// connection opens its own upstream connection; resuming the last session
// to the same upstream skips the certificate chain transfer and
// verification (TLS 1.3 PSK, TLS 1.2 tickets), which is most of the
// upstream handshake's cost on the sidecar's single event loop. A resumed
// session was verified when it was first established, under the same
// roots: the key includes the roots' identity, so a profile that changes
// tls.upstreamCA never resumes a session verified under other roots.
import type tls from 'node:tls';

const DEFAULT_MAX_ENTRIES = 256;

export class UpstreamSessions {
  private readonly entries = new Map<string, Buffer>();
  private readonly maxEntries: number;
  private readonly rootsIds = new WeakMap<object, number>();
  private nextRootsId = 1;

  constructor(maxEntries = DEFAULT_MAX_ENTRIES) {
    this.maxEntries = Math.max(1, maxEntries);
  }

  get size(): number {
    return this.entries.size;
  }

  /** The key of an upstream under one set of roots (`roots` is compared by identity). */
  keyFor(roots: object, address: string, port: number, servername: string | undefined): string {
    let id = this.rootsIds.get(roots);
    if (id === undefined) {
      id = this.nextRootsId++;
      this.rootsIds.set(roots, id);
    }
    return `${id}\u0000${address}\u0000${port}\u0000${servername ?? ''}`;
  }

  get(key: string): Buffer | undefined {
    const session = this.entries.get(key);
    if (session === undefined) return undefined;
    this.entries.delete(key);
    this.entries.set(key, session);
    return session;
  }

  /**
   * Remember the sessions of `socket` from now on. Called at 'secureConnect', when
   * the upstream's certificate has been verified: a TLS 1.2 session exists by then,
   * TLS 1.3 tickets arrive later.
   */
  track(key: string, socket: tls.TLSSocket): void {
    const current = socket.getSession();
    if (current) this.remember(key, current);
    socket.on('session', (session: Buffer) => this.remember(key, session));
  }

  private remember(key: string, session: Buffer): void {
    this.entries.delete(key);
    this.entries.set(key, session);
    while (this.entries.size > this.maxEntries) this.entries.delete(this.entries.keys().next().value as string);
  }

  /** Forget an upstream (a resumed connection failed: the next one does a full handshake). */
  forget(key: string): void {
    this.entries.delete(key);
  }
}
