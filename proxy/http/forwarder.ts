// The only file that knows about `http-proxy`. The library has had no release
// since 2020, so everything else talks to this small interface and the
// library can be replaced here alone.
//
// What we use it for: building the outgoing request from the incoming one,
// error plumbing, and aborting upstream when the client goes away. What we do
// not leave to it: the body (always our inspected stream or buffer, passed through its
// `buffer` option), the exact header set and path (re-applied before the
// first byte, because its pass-through would collapse `//` in paths and
// re-add headers we dropped), response handling (always self-handled), and
// timeouts (classified so that the client gets 504, not a generic 502).
import http from 'node:http';
import type https from 'node:https';
import type { ClientRequest, IncomingMessage, OutgoingHttpHeaders, ServerResponse } from 'node:http';
import type { Readable, Writable } from 'node:stream';
import httpProxy from 'http-proxy';
import { UpstreamError, classifyUpstreamError } from './errors';

export interface UpstreamExchange {
  /** With `tls`, the proxy originates TLS through that agent (which carries servername and CA). */
  target: { host: string; port: number; tls?: { agent: https.Agent } };
  method: string;
  /** Origin-form path and query, sent verbatim. */
  path: string;
  /** The complete header set to send (end-to-end headers, Host, Via, length). */
  headers: OutgoingHttpHeaders;
  /**
   * The request body: a complete (inspected, possibly redacted) buffer, or a
   * stream for bodies forwarded while they are still being scanned. A buffer
   * skips all stream machinery, which is most requests.
   */
  body: Readable | Buffer;
  /** Inactivity limit on the upstream socket; 504 when hit before the response. */
  timeoutMs: number;
  /** Upstream answered: the caller writes the client response (status, headers, body). */
  onResponse(upstreamRes: IncomingMessage): void;
  /** Upstream failed (refused, reset, timed out) or the client went away mid-request. */
  onError(err: UpstreamError, side: 'upstream' | 'client'): void;
}

export interface ForwardHandle {
  /**
   * Stop the exchange now: the upstream request is destroyed, which makes the
   * upstream see an incomplete message. Used for findings after forwarding began.
   */
  abort(): void;
  readonly aborted: boolean;
}

export interface ForwarderOptions {
  /** Concurrent upstream sockets per destination. */
  maxSockets?: number;
  /** Idle keep-alive sockets kept per destination. */
  maxFreeSockets?: number;
  /** Idle keep-alive sockets are closed after this long. */
  freeSocketTimeoutMs?: number;
}

export interface Forwarder {
  forward(req: IncomingMessage, res: ServerResponse, exchange: UpstreamExchange): ForwardHandle;
  /** Close pooled upstream connections. */
  close(): void;
}

export function createForwarder(opts: ForwarderOptions = {}): Forwarder {
  const agent = new http.Agent({
    keepAlive: true,
    maxSockets: opts.maxSockets ?? 256,
    maxFreeSockets: opts.maxFreeSockets ?? 64,
    timeout: opts.freeSocketTimeoutMs ?? 30_000,
    scheduling: 'lifo',
  });
  const proxy = httpProxy.createProxyServer({ agent, selfHandleResponse: true, toProxy: true, xfwd: false });
  // The library emits this when the client socket is already gone; it also aborts upstream itself.
  proxy.on('econnreset', () => undefined);

  return {
    forward(req, res, exchange) {
      let upstreamReq: ClientRequest | undefined;
      let upstreamFailed = false;
      let abortedByUs = false;
      let settled = false;

      const handle: ForwardHandle = {
        abort() {
          if (abortedByUs) return;
          abortedByUs = true;
          if (!Buffer.isBuffer(exchange.body)) exchange.body.destroy();
          upstreamReq?.destroy();
        },
        get aborted() {
          return abortedByUs;
        },
      };

      // http-proxy pipes `buffer` into the request it just created: this is our
      // hook to own that request before a single byte is written.
      const bodyAdapter = {
        pipe(dest: Writable): Writable {
          const outgoing = dest as ClientRequest;
          upstreamReq = outgoing;
          for (const name of outgoing.getHeaderNames()) {
            if (!(name in exchange.headers)) outgoing.removeHeader(name);
          }
          for (const [name, value] of Object.entries(exchange.headers)) {
            if (value !== undefined) outgoing.setHeader(name, value);
          }
          outgoing.path = exchange.path;
          outgoing.prependListener('error', () => {
            upstreamFailed = true;
          });
          outgoing.setTimeout(exchange.timeoutMs, () => {
            outgoing.destroy(new UpstreamError('KDLP_UPSTREAM_TIMEOUT', 504, `no upstream activity for ${exchange.timeoutMs} ms`));
          });
          outgoing.on('response', (upstreamRes: IncomingMessage) => {
            if (abortedByUs) {
              upstreamRes.resume();
              return;
            }
            exchange.onResponse(upstreamRes);
          });
          if (abortedByUs) {
            outgoing.destroy();
            return dest;
          }
          if (Buffer.isBuffer(exchange.body)) {
            outgoing.end(exchange.body);
            return dest;
          }
          return exchange.body.pipe(dest);
        },
      };

      // pipe() does not forward errors: a failed body (client gone, decoder
      // error) must still end the upstream request, and must not go unhandled.
      if (!Buffer.isBuffer(exchange.body)) {
        exchange.body.on('error', () => {
          upstreamReq?.destroy();
        });
      }

      res.once('close', () => {
        // The client left before its response finished: nobody is waiting upstream either.
        if (!res.writableFinished) upstreamReq?.destroy();
      });

      // http-proxy seeds the upstream request with the client's headers, and
      // Node renders a request's head at construction when it carries
      // Expect: the exact header set could then no longer be applied. The
      // expectation was the proxy's to answer anyway (hop-by-hop here).
      if (req.headers.expect !== undefined) delete req.headers.expect;
      proxy.web(
        req,
        res,
        {
          target: {
            protocol: exchange.target.tls ? 'https:' : 'http:',
            host: exchange.target.host,
            hostname: exchange.target.host,
            port: exchange.target.port,
          },
          ...(exchange.target.tls ? { agent: exchange.target.tls.agent } : {}),
          method: exchange.method,
          buffer: bodyAdapter as unknown as NodeJS.ReadableStream & import('node:stream').Stream,
        },
        (err: Error) => {
          if (abortedByUs || settled) return;
          settled = true;
          if (upstreamFailed) {
            exchange.onError(classifyUpstreamError(err), 'upstream');
          } else {
            upstreamReq?.destroy();
            exchange.onError(new UpstreamError('KDLP_UPSTREAM_RESET', 502, 'client request failed'), 'client');
          }
        },
      );
      return handle;
    },
    close() {
      agent.destroy();
      proxy.close();
    },
  };
}
