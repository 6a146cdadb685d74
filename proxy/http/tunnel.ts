// CONNECT tunnels: a byte pipe (socket-relay.ts) between the client and
// host:port. The payload is usually TLS, so nothing inside is inspected; the
// caller decides whether the tunnel may exist at all. What is CONNECT's own:
// the 200 once the upstream answers, and a JSON error response when it does
// not.
import type { Duplex } from 'node:stream';
import { UpstreamError, classifyUpstreamError } from './errors';
import type { Destination } from './destination';
import { writeRawJson } from './responses';
import { relaySockets, type SocketRelayOptions } from './socket-relay';

export interface TunnelOptions extends SocketRelayOptions {
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
  return relaySockets(client, head, dest, opts, {
    onConnected: () => client.write('HTTP/1.1 200 Connection Established\r\n\r\n'),
    onEstablished: () => events.onEstablished(),
    onFailed: (failure) => {
      if (failure.kind === 'client-gone') {
        events.onClosed({ established: false, bytesFromClient: head.length, bytesToClient: 0 });
        return;
      }
      const error =
        failure.kind === 'connect-timeout'
          ? new UpstreamError('KDLP_UPSTREAM_TIMEOUT', 504, `connect to upstream took longer than ${failure.timeoutMs} ms`)
          : classifyUpstreamError(failure.error);
      writeRawJson(client, error.status, { error: 'upstream_failed', requestId: opts.requestId, reason: error.message }, { requestId: opts.requestId });
      events.onFailed(error);
    },
    onClosed: (stats) => events.onClosed(stats),
  });
}
