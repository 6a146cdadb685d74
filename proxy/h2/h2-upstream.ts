// The HTTP/2 upstream of one client connection that speaks h2: an
// intercepted TLS connection that negotiated h2, or a captured cleartext
// one that opened with the HTTP/2 preface (h2c, e.g. plaintext gRPC).
// Over TLS the first session runs over the connection opened (and
// verified) before the client's handshake, which proved the upstream
// negotiates h2; a cleartext upstream is connected at the first stream
// that is allowed through. When a session ends while the client is still
// there, the next stream opens a fresh one to the same pinned (or
// original) address under the same trust, never a new lookup. One client
// connection, one upstream session at a time: what the client would have
// had without the proxy.
import http2 from 'node:http2';
import net from 'node:net';
import tls from 'node:tls';

export interface H2UpstreamTarget {
  /** The pinned address of the tunnel, or the original destination of a captured connection. */
  address: string;
  port: number;
  /** TLS to the upstream; absent for cleartext HTTP/2 (h2c). */
  tls?: {
    /** SNI and the name the certificate is verified for; undefined for an IP destination. */
    servername: string | undefined;
    secureContext: tls.SecureContext;
  };
}

export class H2Upstream {
  private session?: http2.ClientHttp2Session;
  private closed = false;

  constructor(
    private readonly target: H2UpstreamTarget,
    first?: tls.TLSSocket,
  ) {
    if (first) this.session = this.open(first);
  }

  /** The scheme the upstream is spoken to in (the `:scheme` of its requests). */
  get scheme(): 'https' | 'http' {
    return this.target.tls ? 'https' : 'http';
  }

  /** A session for the next stream (connecting, or reconnecting when the last one ended). */
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
    const { address, port, tls: secure } = this.target;
    const authority = `${address.includes(':') ? `[${address}]` : address}:${port}`;
    const session = secure
      ? http2.connect(`https://${authority}`, {
          createConnection: () =>
            socket ??
            tls.connect({ host: address, port, servername: secure.servername, secureContext: secure.secureContext, ALPNProtocols: ['h2'], minVersion: 'TLSv1.2', rejectUnauthorized: true }),
        })
      : http2.connect(`http://${authority}`, { createConnection: () => net.connect({ host: address, port, noDelay: true }) });
    // Errors surface on the streams using the session; an idle session's error only ends it.
    session.on('error', () => undefined);
    session.once('close', () => {
      if (this.session === session) this.session = undefined;
    });
    return session;
  }
}
