// The HTTP/2 upstream of one intercepted client connection that speaks h2.
// The first session runs over the connection opened (and verified) before
// the client's handshake, which proved the upstream negotiates h2; if that
// session ends while the client is still there, the next stream opens a
// fresh one to the same pinned address under the same trust, never a new
// lookup. One client connection, one upstream session at a time: what the
// client would have had without the proxy.
import http2 from 'node:http2';
import tls from 'node:tls';

export interface H2UpstreamTarget {
  /** The pinned address of the tunnel. */
  address: string;
  port: number;
  /** SNI and the name the certificate is verified for; undefined for an IP destination. */
  servername: string | undefined;
  secureContext: tls.SecureContext;
}

export class H2Upstream {
  private session?: http2.ClientHttp2Session;
  private closed = false;

  constructor(
    private readonly target: H2UpstreamTarget,
    first: tls.TLSSocket,
  ) {
    this.session = this.open(first);
  }

  /** A session for the next stream (reconnecting when the last one ended). */
  current(): http2.ClientHttp2Session {
    if (this.closed) throw new Error('upstream closed');
    if (!this.session || this.session.closed || this.session.destroyed) this.session = this.open(undefined);
    return this.session;
  }

  close(): void {
    this.closed = true;
    this.session?.destroy();
    this.session = undefined;
  }

  private open(socket: tls.TLSSocket | undefined): http2.ClientHttp2Session {
    const { address, port, servername, secureContext } = this.target;
    const session = http2.connect(`https://${address.includes(':') ? `[${address}]` : address}:${port}`, {
      createConnection: () =>
        socket ??
        tls.connect({ host: address, port, servername, secureContext, ALPNProtocols: ['h2'], minVersion: 'TLSv1.2', rejectUnauthorized: true }),
    });
    // Errors surface on the streams using the session; an idle session's error only ends it.
    session.on('error', () => undefined);
    session.once('close', () => {
      if (this.session === session) this.session = undefined;
    });
    return session;
  }
}
