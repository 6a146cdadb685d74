// The one byte pipe between a client socket and an upstream it is not
// inspected on: CONNECT tunnels (proxy/http/tunnel.ts) and captured
// connections relayed opaquely (proxy/transparent/opaque-exchange.ts).
// Connect to the target with a bounded connect time, replay the bytes already
// read from the client, then pipe both ways with an idle limit. Half-close is
// passed on (pipe ends the other side), so protocols that shut down writes
// work. What the client is told when the upstream cannot be reached differs
// (a JSON error response for CONNECT, a reset for a captured connection) and
// stays with the caller.
import net from 'node:net';
import type { Duplex } from 'node:stream';

export interface SocketRelayOptions {
  connectTimeoutMs: number;
  /** Close after this long without traffic in either direction; 0 = never. */
  idleTimeoutMs: number;
}

/** Why a relay never got established. */
export type RelayFailure =
  | { kind: 'connect-timeout'; timeoutMs: number }
  | { kind: 'upstream-error'; error: NodeJS.ErrnoException }
  /** The client closed before the upstream answered. */
  | { kind: 'client-gone' };

/** How a relay failure is named in audit reasons: the client left, or the upstream's error code. */
export function relayFailureCode(failure: RelayFailure): string {
  if (failure.kind === 'client-gone') return 'client closed';
  if (failure.kind === 'connect-timeout') return 'ETIMEDOUT';
  return failure.error.code ?? 'ECONNRESET';
}

export interface RelayStats {
  /** False when the client errored before the upstream answered. */
  established: boolean;
  bytesFromClient: number;
  bytesToClient: number;
}

export interface SocketRelayEvents {
  /** The upstream answered; called before the replayed bytes are sent (a CONNECT tunnel writes its 200 here). */
  onConnected?(): void;
  onEstablished(): void;
  /** Never established. The upstream is destroyed; the client is left to the caller, except when it is gone. onClosed does not follow. */
  onFailed(failure: RelayFailure): void;
  /** Both sockets are destroyed (either side closed, idle timeout, destroy()). */
  onClosed(stats: RelayStats): void;
}

export interface SocketRelay {
  destroy(): void;
}

export function relaySockets(
  client: Duplex,
  head: Buffer,
  target: { host: string; port: number },
  opts: SocketRelayOptions,
  events: SocketRelayEvents,
): SocketRelay {
  const upstream = net.connect({ host: target.host, port: target.port });
  let established = false;
  let closed = false;
  let timedOut = false;
  let bytesFromClient = head.length;
  let bytesToClient = 0;
  const connectTimer = setTimeout(() => {
    timedOut = true;
    upstream.destroy(Object.assign(new Error(`connect to upstream took longer than ${opts.connectTimeoutMs} ms`), { code: 'ETIMEDOUT' }));
  }, opts.connectTimeoutMs);

  const finish = (): void => {
    if (closed) return;
    closed = true;
    clearTimeout(connectTimer);
    upstream.destroy();
    client.destroy();
    events.onClosed({ established, bytesFromClient, bytesToClient });
  };
  const fail = (failure: RelayFailure): void => {
    closed = true;
    clearTimeout(connectTimer);
    upstream.destroy();
    events.onFailed(failure);
  };

  upstream.once('connect', () => {
    clearTimeout(connectTimer);
    if (closed) return;
    established = true;
    events.onConnected?.();
    if (head.length > 0) upstream.write(head);
    if (opts.idleTimeoutMs > 0) {
      upstream.setTimeout(opts.idleTimeoutMs, finish);
      (client as Partial<net.Socket>).setTimeout?.(opts.idleTimeoutMs, finish);
    }
    client.on('data', (chunk: Buffer) => (bytesFromClient += chunk.length));
    upstream.on('data', (chunk: Buffer) => (bytesToClient += chunk.length));
    client.pipe(upstream);
    upstream.pipe(client);
    // A captured socket was paused while its first bytes were sniffed.
    client.resume();
    events.onEstablished();
  });
  upstream.on('error', (err: NodeJS.ErrnoException) => {
    if (established || closed) return finish();
    fail(timedOut ? { kind: 'connect-timeout', timeoutMs: opts.connectTimeoutMs } : { kind: 'upstream-error', error: err });
  });
  // Before 'connect' the upstream only closes after an 'error' (handled above) or from finish().
  upstream.on('close', () => {
    if (established) finish();
  });
  client.on('error', finish);
  client.on('close', () => {
    if (!established && !closed) return fail({ kind: 'client-gone' });
    finish();
  });
  return { destroy: finish };
}
