// The one file that opens upstream HTTP requests. It builds each request
// with Node's http client directly, from the exact header set and path the
// exchange decided, over a keep-alive agent (or the TLS origination agent).
// It used to wrap `http-proxy` (no release since 2020); that library seeded
// every request with the client's headers and a re-joined path, which this
// file then had to strip and re-apply before the first byte, and it
// allocated its options, closures and events per request: about 10% of the
// proxy's CPU per small request went there.
//
// What this file owns: the body (always our inspected stream or buffer),
// error plumbing (which side failed), aborting upstream when the client goes
// away, and timeouts (classified so that the client gets 504, not a generic
// 502). Response handling is the caller's.
import http from 'node:http';
import https from 'node:https';
import type { ClientRequest, IncomingMessage, OutgoingHttpHeaders, ServerResponse } from 'node:http';
import type { Readable } from 'node:stream';
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
  return {
    forward: (req, res, exchange) => forwardOne(agent, req, res, exchange),
    close() {
      agent.destroy();
    },
  };
}

function forwardOne(agent: http.Agent, req: IncomingMessage, res: ServerResponse, exchange: UpstreamExchange): ForwardHandle {
  const { target, body } = exchange;
  const options: http.RequestOptions = {
    host: target.host,
    port: target.port,
    method: exchange.method,
    path: exchange.path,
    headers: exchange.headers,
    agent: target.tls ? target.tls.agent : agent,
  };
  const upstreamReq: ClientRequest = target.tls ? https.request(options) : http.request(options);
  let upstreamFailed = false;
  let abortedByUs = false;
  // Set once the exchange is over for this side: the client left (its reset
  // is not an upstream failure) or one error was already reported.
  let settled = false;

  const handle: ForwardHandle = {
    abort() {
      if (abortedByUs) return;
      abortedByUs = true;
      if (!Buffer.isBuffer(body)) body.destroy();
      upstreamReq.destroy();
    },
    get aborted() {
      return abortedByUs;
    },
  };

  const fail = (err: Error, side: 'upstream' | 'client'): void => {
    if (abortedByUs || settled) return;
    // A reset caused by the client leaving is the client's doing: nobody is left to answer.
    if (req.socket.destroyed && (err as NodeJS.ErrnoException).code === 'ECONNRESET') {
      settled = true;
      upstreamReq.destroy();
      return;
    }
    settled = true;
    if (side === 'upstream' || upstreamFailed) {
      exchange.onError(classifyUpstreamError(err), 'upstream');
    } else {
      upstreamReq.destroy();
      exchange.onError(new UpstreamError('KDLP_UPSTREAM_RESET', 502, 'client request failed'), 'client');
    }
  };
  upstreamReq.on('error', (err) => {
    upstreamFailed = true;
    fail(err, 'upstream');
  });
  req.on('error', (err) => fail(err, 'client'));
  req.on('aborted', () => {
    // The client's request ended unfinished: the upstream copy must not complete.
    settled = true;
    upstreamReq.destroy();
  });
  upstreamReq.setTimeout(exchange.timeoutMs, () => {
    upstreamReq.destroy(new UpstreamError('KDLP_UPSTREAM_TIMEOUT', 504, `no upstream activity for ${exchange.timeoutMs} ms`));
  });
  upstreamReq.on('response', (upstreamRes: IncomingMessage) => {
    if (abortedByUs) {
      upstreamRes.resume();
      return;
    }
    exchange.onResponse(upstreamRes);
  });
  res.once('close', () => {
    // The client left before its response finished: nobody is waiting upstream either.
    if (!res.writableFinished) upstreamReq.destroy();
  });

  if (Buffer.isBuffer(body)) {
    upstreamReq.end(body);
  } else {
    // pipe() does not forward errors: a failed body (client gone, decoder
    // error) must still end the upstream request, and must not go unhandled.
    body.on('error', () => upstreamReq.destroy());
    body.pipe(upstreamReq);
  }
  return handle;
}
