// Idle upstream TLS connections of intercepted clients, kept for the next
// client connection to the same upstream. Without it every intercepted
// client connection opens (and the client's handshake waits for) a new
// upstream TCP and TLS handshake, although a connection to that upstream,
// verified under the same roots for the same name and address, was just
// left idle by the previous client. This is what Envoy does by default:
// upstream connections belong to the sidecar, not to one downstream.
//
// Only HTTP/1.1 connections with nothing in flight are kept (one the agent
// freed after a complete response, or one never used), never an upgraded
// one, and only briefly: an upstream closes idle connections on its own
// keep-alive timeout (5 s is Node's default, the shortest common one), and a
// request written into a connection it is closing fails. The key is the
// upstream-session key (roots identity, address, port, server name), so a
// connection verified under other roots, or pinned to another address, is
// never handed out.
import type tls from 'node:tls';

/** Below the shortest common server keep-alive timeout (Node's 5 s). */
export const DEFAULT_POOL_IDLE_MS = 4000;

export interface UpstreamPoolOptions {
  /** Idle connections kept per upstream. */
  maxPerUpstream?: number;
  /** Idle connections kept in all. */
  maxTotal?: number;
  /** An idle connection is closed after this long. */
  idleMs?: number;
}

interface Idle {
  key: string;
  socket: tls.TLSSocket;
  timer: NodeJS.Timeout;
  gone(): void;
}

export class UpstreamPool {
  /** Per upstream, most recently released last (handed out first: the least likely to be timed out). */
  private readonly idle = new Map<string, Idle[]>();
  private total = 0;
  /** After clear(): nothing is kept any more. */
  private closed = false;
  private readonly maxPerUpstream: number;
  private readonly maxTotal: number;
  private readonly idleMs: number;
  reused = 0;

  constructor(opts: UpstreamPoolOptions = {}) {
    this.maxPerUpstream = Math.max(0, opts.maxPerUpstream ?? 8);
    this.maxTotal = Math.max(0, opts.maxTotal ?? 128);
    this.idleMs = opts.idleMs ?? DEFAULT_POOL_IDLE_MS;
  }

  get size(): number {
    return this.total;
  }

  /** An idle connection to the upstream `key`, or undefined; the caller owns it from now on. */
  take(key: string): tls.TLSSocket | undefined {
    const stack = this.idle.get(key);
    while (stack !== undefined && stack.length > 0) {
      const entry = stack.pop()!;
      this.forget(entry);
      if (reusable(entry.socket)) {
        this.reused++;
        return entry.socket;
      }
      entry.socket.destroy();
    }
    return undefined;
  }

  /** Keep `socket` (idle, nothing in flight) for the next client of upstream `key`, or close it. */
  release(key: string, socket: tls.TLSSocket): void {
    if (this.closed || !reusable(socket) || this.maxPerUpstream === 0 || this.maxTotal === 0) {
      socket.destroy();
      return;
    }
    let stack = this.idle.get(key);
    if (stack === undefined) this.idle.set(key, (stack = []));
    if (stack.length >= this.maxPerUpstream) this.drop(stack[0]!);
    if (this.total >= this.maxTotal) this.evictOldest();
    const entry: Idle = {
      key,
      socket,
      timer: setTimeout(() => this.drop(entry), this.idleMs),
      // Closed or ended by the upstream, or unsolicited bytes (a 408, say): not reusable.
      gone: () => this.drop(entry),
    };
    entry.timer.unref();
    socket.on('close', entry.gone);
    socket.on('end', entry.gone);
    socket.on('data', entry.gone);
    // Reading, so that an upstream closing the idle connection is noticed now, not at the next request.
    socket.resume();
    socket.unref();
    stack.push(entry);
    this.total++;
  }

  /** Close every idle connection and keep none from now on (the proxy is stopping). */
  clear(): void {
    this.closed = true;
    for (const stack of [...this.idle.values()]) for (const entry of [...stack]) this.drop(entry);
  }

  private drop(entry: Idle): void {
    const stack = this.idle.get(entry.key);
    if (stack === undefined || !stack.includes(entry)) return;
    stack.splice(stack.indexOf(entry), 1);
    this.forget(entry);
    entry.socket.destroy();
  }

  /** The least recently released connection of the upstream released longest ago. */
  private evictOldest(): void {
    for (const stack of this.idle.values()) {
      if (stack.length > 0) return this.drop(stack[0]!);
    }
  }

  /** Out of the pool, listeners and timer off; the socket is untouched. */
  private forget(entry: Idle): void {
    clearTimeout(entry.timer);
    entry.socket.off('close', entry.gone);
    entry.socket.off('end', entry.gone);
    entry.socket.off('data', entry.gone);
    entry.socket.ref();
    this.total--;
    const stack = this.idle.get(entry.key);
    if (stack !== undefined && stack.length === 0) this.idle.delete(entry.key);
  }
}

function reusable(socket: tls.TLSSocket): boolean {
  return !socket.destroyed && socket.readable && socket.writable && !socket.readableEnded && socket.readableLength === 0 && socket.writableLength === 0;
}
