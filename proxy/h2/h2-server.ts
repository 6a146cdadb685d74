// Serves the client connections that speak HTTP/2: decrypted ones that
// negotiated h2, and captured cleartext ones that opened with the HTTP/2
// preface (h2c). One HTTP/2 session per client connection, one exchange
// (proxy/h2/h2-exchange.ts) per stream, each with its own request id,
// profile snapshot and outcome.
import http2 from 'node:http2';
import type { Socket } from 'node:net';
import type pino from 'pino';
import type { RuntimeConfig } from '../profile';
import { RequestContext } from '../exchange/request-context';
import { handleH2Stream, type H2ExchangeDeps, type H2Origin } from './h2-exchange';
import { resetStream, respondJson } from './h2-responses';

export interface InterceptedH2ServerOptions {
  profiles: { current(): RuntimeConfig };
  nextId(): string;
  deps: H2ExchangeDeps;
  logger: pino.Logger;
  /** Counts a stream for draining; the result is called once it ends. */
  exchangeStarted(): () => void;
  /** An idle session (no stream open) is closed after this long. */
  idleMs: number;
}

export class InterceptedH2Server {
  private readonly server = http2.createServer();
  /** The origin of the connection being attached: 'session' is emitted synchronously inside emit('connection'). */
  private attaching?: H2Origin;
  private readonly sessions = new Set<http2.ServerHttp2Session>();

  constructor(private readonly opts: InterceptedH2ServerOptions) {
    this.server.on('session', (session: http2.ServerHttp2Session) => {
      const origin = this.attaching;
      if (!origin) {
        session.destroy();
        return;
      }
      this.sessions.add(session);
      session.once('close', () => this.sessions.delete(session));
      session.on('error', () => undefined);
      session.setTimeout(this.opts.idleMs, () => session.close());
      session.on('stream', (stream, headers) => this.onStream(stream, headers, origin));
    });
  }

  /**
   * Serve `socket` with `origin`'s upstream, which is closed when the socket
   * closes. `replay`: bytes already read from it (a sniffed preface), parsed
   * first; the session reads the socket natively after that, so the socket
   * is not resumed here. Bytes TLS decrypted before the hand-off are replayed
   * by the session itself.
   */
  serve(socket: Socket, origin: H2Origin, replay?: Buffer): void {
    socket.once('close', () => origin.upstream.close());
    if (replay !== undefined && replay.length > 0) socket.unshift(replay);
    this.attaching = origin;
    try {
      this.server.emit('connection', socket);
    } finally {
      this.attaching = undefined;
    }
  }

  /** Close every session (drain deadline). */
  closeAll(): void {
    for (const s of this.sessions) s.destroy();
    this.sessions.clear();
  }

  private onStream(stream: http2.ServerHttp2Stream, headers: http2.IncomingHttpHeaders, origin: H2Origin): void {
    const method = typeof headers[':method'] === 'string' ? headers[':method'] : 'GET';
    const ctx = new RequestContext(this.opts.nextId(), this.opts.profiles.current(), 'http', method);
    const ended = this.opts.exchangeStarted();
    stream.once('close', ended);
    handleH2Stream(ctx, stream, headers, origin, this.opts.deps).catch((err: unknown) => {
      // A bug, not a client problem: logged without request content, this stream fails alone.
      this.opts.logger.error({ err: err instanceof Error ? err.message : 'non-error thrown', requestId: ctx.id }, 'HTTP/2 stream handling failed');
      ctx.settle('error', 'internal error');
      if (!respondJson(stream, 500, { error: 'internal_error', requestId: ctx.id }, ctx.id)) resetStream(stream);
    });
  }
}

