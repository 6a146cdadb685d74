// CONNECT tunnels: a byte pipe between the client and host:port. The payload
// is usually TLS, so nothing inside is inspected; the caller decides whether
// the tunnel may exist at all and this module only moves bytes, with bounded
// connect and idle timeouts.
import net from 'node:net';
import type { Duplex } from 'node:stream';
import { UpstreamError, classifyUpstreamError } from './errors';
import type { Destination } from './destination';
import { writeRawJson } from './responses';

export interface TunnelOptions {
  connectTimeoutMs: number;
  /** Close the tunnel after this long without traffic in either direction (0 = never). */
  idleTimeoutMs: number;
  requestId: string;
}

export interface TunnelEvents {
  onEstablished(): void;
  /** Could not connect (the client already got 502/504); onClosed does not follow. */
  onFailed(err: UpstreamError): void;
  /** The tunnel is gone (either side closed, idle timeout, destroy()); `established` false if the client left first. */
  onClosed(stats: { established: boolean; bytesFromClient: number; bytesToClient: number }): void;
}

export interface Tunnel {
  destroy(): void;
}

export function openTunnel(client: Duplex, head: Buffer, dest: Destination, opts: TunnelOptions, events: TunnelEvents): Tunnel {
  const upstream = net.connect({ host: dest.host, port: dest.port });
  let established = false;
  let closed = false;
  let bytesFromClient = head.length;
  let bytesToClient = 0;

  const connectTimer = setTimeout(() => {
    upstream.destroy(new UpstreamError('KDLP_UPSTREAM_TIMEOUT', 504, `connect to upstream took longer than ${opts.connectTimeoutMs} ms`));
  }, opts.connectTimeoutMs);

  const finish = (): void => {
    if (closed) return;
    closed = true;
    clearTimeout(connectTimer);
    upstream.destroy();
    client.destroy();
    events.onClosed({ established, bytesFromClient, bytesToClient });
  };

  upstream.once('connect', () => {
    clearTimeout(connectTimer);
    if (closed) return;
    established = true;
    client.write('HTTP/1.1 200 Connection Established\r\n\r\n');
    if (head.length > 0) upstream.write(head);
    if (opts.idleTimeoutMs > 0) {
      upstream.setTimeout(opts.idleTimeoutMs, finish);
      (client as Partial<net.Socket>).setTimeout?.(opts.idleTimeoutMs, finish);
    }
    client.on('data', (chunk: Buffer) => {
      bytesFromClient += chunk.length;
    });
    upstream.on('data', (chunk: Buffer) => {
      bytesToClient += chunk.length;
    });
    client.pipe(upstream);
    upstream.pipe(client);
    events.onEstablished();
  });

  upstream.on('error', (err) => {
    if (!established && !closed) {
      const failure = classifyUpstreamError(err);
      closed = true;
      clearTimeout(connectTimer);
      writeRawJson(client, failure.status, { error: 'upstream_failed', requestId: opts.requestId, reason: failure.message }, { requestId: opts.requestId });
      events.onFailed(failure);
      return;
    }
    finish();
  });
  upstream.on('close', finish);
  client.on('error', finish);
  client.on('close', finish);

  return { destroy: finish };
}
