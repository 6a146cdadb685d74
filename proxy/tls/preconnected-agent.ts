// The upstream side of one intercepted client connection. The upstream TLS
// connection is opened (and its certificate verified) before the client's
// handshake completes, because that is when we learn whether the upstream
// can be trusted at all, or it is an idle one a previous client of the same
// upstream left (upstream-pool.ts); this agent then serves the client's
// requests over that very connection, and only opens (verified) new ones if
// it closes. One client connection uses one upstream connection at a time,
// as the client would have without the proxy.
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

  /**
   * Take out the connection that has nothing in flight (never used, or
   * freed after a complete response), for another client; undefined when
   * there is none. The agent forgets it.
   */
  detachIdle(): tls.TLSSocket | undefined {
    const first = this.first;
    this.first = undefined;
    if (first !== undefined && !first.destroyed) return first;
    const free = this.freeSockets as NodeJS.Dict<Duplex[]>;
    for (const [name, sockets] of Object.entries(free)) {
      const at = sockets?.findIndex((s) => !s.destroyed) ?? -1;
      if (at < 0) continue;
      const socket = sockets![at] as tls.TLSSocket;
      // How a socket leaves an agent (documented for http.Agent) takes its listeners off; Node
      // leaves a live socket on the free list, where destroy() would still find it.
      socket.emit('agentRemove');
      sockets!.splice(at, 1);
      if (sockets!.length === 0) delete free[name];
      return socket;
    }
    return undefined;
  }

  override destroy(): void {
    this.first?.destroy();
    this.first = undefined;
    super.destroy();
  }
}
