// Opaque relay for captured connections the proxy cannot inspect (raw TCP,
// TLS passthrough): connect to the original destination, replay the bytes
// read while sniffing, then pipe both ways with an idle limit. Unlike a
// CONNECT tunnel there is no HTTP to answer in: a failure just resets the
// client, the way an unreachable host would.
import net from 'node:net';
import type { Socket } from 'node:net';

export interface RelayOptions {
  connectTimeoutMs: number;
  /** Close after this long without traffic either way; 0 = never. */
  idleTimeoutMs: number;
}

export interface RelayEvents {
  onEstablished(): void;
  onFailed(code: string): void;
  onClosed(stats: { bytesFromClient: number; bytesToClient: number }): void;
}

export interface Relay {
  destroy(): void;
}

export function relayTcp(client: Socket, head: Buffer, target: { address: string; port: number }, opts: RelayOptions, events: RelayEvents): Relay {
  const upstream = net.connect({ host: target.address, port: target.port });
  let established = false;
  let closed = false;
  let bytesFromClient = head.length;
  let bytesToClient = 0;
  const connectTimer = setTimeout(() => upstream.destroy(Object.assign(new Error('connect timeout'), { code: 'ETIMEDOUT' })), opts.connectTimeoutMs);

  const finish = (): void => {
    if (closed) return;
    closed = true;
    clearTimeout(connectTimer);
    upstream.destroy();
    client.destroy();
    if (established) events.onClosed({ bytesFromClient, bytesToClient });
  };

  upstream.once('connect', () => {
    clearTimeout(connectTimer);
    if (closed) return;
    established = true;
    if (head.length > 0) upstream.write(head);
    if (opts.idleTimeoutMs > 0) {
      upstream.setTimeout(opts.idleTimeoutMs, finish);
      client.setTimeout(opts.idleTimeoutMs, finish);
    }
    client.on('data', (c: Buffer) => (bytesFromClient += c.length));
    upstream.on('data', (c: Buffer) => (bytesToClient += c.length));
    // Half-close is passed on (pipe ends the other side), so request/response protocols that shut down writes work.
    client.pipe(upstream);
    upstream.pipe(client);
    client.resume();
    events.onEstablished();
  });
  upstream.on('error', (err: NodeJS.ErrnoException) => {
    if (!established && !closed) {
      closed = true;
      clearTimeout(connectTimer);
      client.resetAndDestroy();
      events.onFailed(err.code ?? 'ECONNRESET');
      return;
    }
    finish();
  });
  upstream.on('close', () => {
    if (established) finish();
  });
  client.on('error', finish);
  client.on('close', () => {
    if (!established && !closed) {
      closed = true;
      clearTimeout(connectTimer);
      upstream.destroy();
      events.onFailed('client closed');
      return;
    }
    finish();
  });
  return { destroy: finish };
}
