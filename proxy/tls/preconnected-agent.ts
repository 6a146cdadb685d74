// The upstream side of one intercepted client connection. The upstream TLS
// connection is opened (and its certificate verified) before the client's
// handshake completes, because that is when we learn whether the upstream
// can be trusted at all; this agent then serves the client's requests over
// that very connection, and only opens (verified) new ones if it closes.
// One client connection, one upstream connection: what the client would
// have had without the proxy.
import https from 'node:https';
import type { Duplex } from 'node:stream';
import type tls from 'node:tls';

export class PreconnectedAgent extends https.Agent {
  constructor(
    private first: tls.TLSSocket | undefined,
    options: https.AgentOptions,
  ) {
    super({ keepAlive: true, maxSockets: 1, maxFreeSockets: 1, scheduling: 'lifo', ...options });
  }

  override createConnection(options: import('node:http').ClientRequestArgs, callback?: (err: Error | null, stream: Duplex) => void): Duplex | null | undefined {
    const socket = this.first;
    this.first = undefined;
    if (socket && !socket.destroyed) return socket;
    return super.createConnection(options, callback);
  }

  override destroy(): void {
    this.first?.destroy();
    this.first = undefined;
    super.destroy();
  }
}
