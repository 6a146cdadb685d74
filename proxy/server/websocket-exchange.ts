// One WebSocket through the proxy: ws:// from an explicit client or a
// captured connection, and wss:// inside an intercepted TLS tunnel (the
// decrypted connection's handshake goes to the tunnel's verified upstream,
// over the TLS agent that reaches it, like any intercepted request). The
// handshake is an HTTP request and gets
// the same checks as any (target, loop, URL/header scan, tenancy, egress by
// name and by every resolved address); then either the profile denies
// WebSockets (egress.websocket: Deny → 403), or the upgrade is forwarded to
// the pinned address and every client-to-server message is scanned before
// its first byte goes upstream (message-gate.ts). A blocked message closes
// the client with 1008 and the upstream with 1001; server-to-client frames
// pass through untouched.
//
// permessage-deflate: the offer is removed from the handshake, so messages
// travel uncompressed and each one is scanned as sent. Inflating instead
// would need per-connection decompression state (context takeover) and a
// bomb guard for every message; refusing the extension costs bandwidth only.
import http from 'node:http';
import https from 'node:https';
import type { IncomingMessage, OutgoingHttpHeaders } from 'node:http';
import type { Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import { formatHostPort, parseAbsoluteTarget, type HttpTarget } from '../http/destination';
import { TargetError, UpstreamError, classifyUpstreamError } from '../http/errors';
import { endToEndRequestHeaders } from '../http/hop-by-hop';
import type { LoopGuard } from '../http/loop-guard';
import { writeRawJson } from '../http/responses';
import { inspectCompleteBody } from '../inspect-pipeline/body-scan';
import { scanRequestMetadata, type MetadataScan } from '../inspect-pipeline/metadata-scan';
import { decide, detectorIds, policyOf, uninspectableRule, type AppliedFinding, type UninspectableRule } from '../inspect-pipeline/verdict';
import { capturedHttpTarget, decideHttpEgress, upstreamTargetFor } from '../exchange/http-capture';
import { transparentOriginOf } from '../exchange/transparent-origin';
import { interceptedOriginOf } from '../tls/intercepted-origin';
import { interceptedHttpTarget } from '../tls/intercepted-request';
import { clientCloseFrame, serverCloseFrame } from '../websocket/frames';
import { ClientMessageGate, type MessageKind, type MessageVerdict } from '../websocket/message-gate';
import type { Decision } from '../outcome/decision';
import type { ExchangeDeps } from './http-exchange';
import { describeEgress, pinDestination } from './pinned-destination';
import type { RequestContext } from '../exchange/request-context';

export type WebSocketExchangeDeps = ExchangeDeps;

/** Findings kept per connection for the audit line; a long-lived socket must not grow without bound. */
const MAX_FINDINGS_PER_CONNECTION = 64;

export async function handleWebSocketExchange(
  ctx: RequestContext,
  req: IncomingMessage,
  client: Duplex,
  head: Buffer,
  deps: WebSocketExchangeDeps,
  done: () => void,
): Promise<void> {
  const cfg = ctx.config;
  const policy = policyOf(cfg);
  let finished = false;
  const finish = (): void => {
    if (finished) return;
    finished = true;
    deps.reporter.finish(ctx);
    done();
  };
  const answer = (status: number, error: string, decision: Decision, reason: string): void => {
    ctx.settle(decision, reason);
    writeRawJson(client, status, { error, requestId: ctx.id, destination: ctx.auditDestination || undefined, reason }, { requestId: ctx.id });
    finish();
  };
  const clientLeft = (): void => {
    if (finished) return;
    ctx.settle('error', 'client left before the WebSocket was established');
    deps.metrics.clientAborted('before_decision');
    finish();
  };
  client.once('close', clientLeft);

  const origin = transparentOriginOf(client as Socket);
  // Decrypted by TLS interception: origin-form, bound to the verified upstream of its tunnel.
  const intercepted = interceptedOriginOf(client);
  let target: HttpTarget;
  try {
    target = intercepted ? interceptedHttpTarget(intercepted, req) : origin ? capturedHttpTarget(origin, req) : parseAbsoluteTarget(req.url ?? '');
    if (deps.loopGuard.isSelf(target.destination) || deps.loopGuard.seenBefore(req.headers.via)) {
      throw new TargetError('KDLP_PROXY_LOOP', 508, 'loop', 'request is addressed to the proxy itself');
    }
  } catch (err) {
    if (!(err instanceof TargetError)) throw err;
    ctx.refusedAs = err.reason;
    deps.metrics.badRequest(err.reason);
    writeRawJson(client, err.status, { error: err.reason, requestId: ctx.id, reason: err.message }, { requestId: ctx.id });
    client.off('close', clientLeft);
    done();
    return;
  }
  const dest = target.destination;
  ctx.destination = dest;
  ctx.auditDestination = formatHostPort(dest);

  // An intercepted client's Host was checked against the tunnel's host: it goes upstream as the client wrote it.
  const hostHeader = intercepted && req.headers.host !== undefined ? req.headers.host : dest.port === 80 ? hostOnly(dest.host) : formatHostPort(dest);
  let headers = handshakeHeaders(req, hostHeader, deps.loopGuard);
  let path = target.path;
  let meta: MetadataScan | undefined;
  if (cfg.spec.inspection.url || cfg.spec.inspection.headers) {
    meta = scanRequestMetadata(cfg, ctx.meter, target, headers);
    ctx.auditDestination = meta.auditDestination;
    ctx.auditPath = meta.auditPath;
  }
  ctx.auditPath ??= target.path;
  const metaFindings = meta?.findings ?? [];

  const tenancy = deps.tenancy?.decide({ host: dest.host, address: origin?.address }, cfg.spec.tenancy);
  if (tenancy && !tenancy.allowed) {
    ctx.findings = decide(policy, metaFindings).findings;
    answer(403, 'denied_cross_tenant', 'denied_cross_tenant', tenancy.detail);
    return;
  }
  const egress = decideHttpEgress(cfg, dest, origin);
  const enforcing = policy.mode === 'Protect';
  if (!egress.allowed) {
    if (enforcing) {
      ctx.findings = decide(policy, metaFindings).findings;
      answer(403, 'denied_destination', 'denied_destination', describeEgress(egress));
      return;
    }
    ctx.note = `${describeEgress(egress)}: not enforced in Monitor mode`;
  }
  if (cfg.spec.egress.websocket === 'Deny') {
    const why = 'WebSocket upgrades are denied by the profile (egress.websocket: Deny)';
    if (enforcing) {
      answer(403, 'denied_destination', 'denied_destination', why);
      return;
    }
    ctx.note = [ctx.note, `${why}: not enforced in Monitor mode`].filter(Boolean).join('; ');
  }
  let unreadableRule: UninspectableRule | undefined;
  const unreadable = (): UninspectableRule => (unreadableRule ??= uninspectableRule(cfg, policy, dest));
  const handshake = decide(policy, metaFindings, meta?.uninspectable, unreadable);
  if (handshake.outcome === 'block') {
    ctx.findings = handshake.findings;
    ctx.settle(handshake.decision, handshake.reason);
    writeRawJson(
      client,
      403,
      { error: 'blocked', requestId: ctx.id, detectors: detectorIds(handshake.findings.filter((f) => f.applied !== 'monitor')), reason: handshake.reason },
      { requestId: ctx.id },
    );
    finish();
    return;
  }
  if (handshake.outcome === 'redact' && meta) ({ path, headers } = meta.redact(handshake.toRedact, path, headers));
  ctx.findings = handshake.findings;
  ctx.settle(handshake.decision, handshake.reason);

  // Captured and intercepted connections already have their address (an intercepted one, the one its tunnel was pinned to).
  let address = intercepted ? intercepted.address : origin?.address;
  if (address === undefined) {
    try {
      const pinned = await pinDestination(cfg, dest, { resolver: deps.resolver, resolveTimeoutMs: deps.upstreamTimeoutMs, tenancy: deps.tenancy }, true);
      if (pinned.tenancy && !pinned.tenancy.allowed) {
        answer(403, 'denied_cross_tenant', 'denied_cross_tenant', pinned.tenancy.detail);
        return;
      }
      if (!pinned.egress.allowed) {
        const why = `${describeEgress(pinned.egress)} for an address the name resolved to`;
        if (enforcing) {
          answer(403, 'denied_destination', 'denied_destination', why);
          return;
        }
        ctx.note ??= `${why}: not enforced in Monitor mode`;
      }
      address = pinned.address;
    } catch (err) {
      if (!(err instanceof UpstreamError)) throw err;
      answer(err.status, 'upstream_failed', 'error', err.message);
      return;
    }
  }
  if (finished) return;
  let upstreamReq: http.ClientRequest;
  if (intercepted) {
    // Over TLS, the tunnel's agent holds the upstream connection verified at CONNECT time (and opens verified ones);
    // a plaintext tunnel's upgrade goes to its pinned address.
    const options = { host: intercepted.address, port: intercepted.port, method: 'GET', path, headers };
    upstreamReq = intercepted.agent ? https.request({ ...options, agent: intercepted.agent }) : http.request({ ...options, agent: false });
  } else {
    const upstreamTarget = upstreamTargetFor(cfg, dest, address, deps.tlsOrigination);
    if ('error' in upstreamTarget) {
      answer(upstreamTarget.error.status, 'upstream_failed', 'error', upstreamTarget.error.message);
      return;
    }
    const { target: up } = upstreamTarget;
    upstreamReq = (up.tls ? https : http).request({
      host: up.host,
      port: up.port,
      method: 'GET',
      path,
      headers,
      agent: up.tls ? up.tls.agent : false,
      ...(up.tls ? { servername: up.tls.servername } : {}),
    });
  }
  upstreamReq.setTimeout(deps.upstreamTimeoutMs, () => {
    upstreamReq.destroy(new UpstreamError('KDLP_UPSTREAM_TIMEOUT', 504, `no upstream activity for ${deps.upstreamTimeoutMs} ms`));
  });
  const abandon = (): void => {
    upstreamReq.destroy();
  };
  client.once('close', abandon);
  upstreamReq.on('error', (err) => {
    if (finished) return;
    client.off('close', abandon);
    const failure = classifyUpstreamError(err);
    answer(failure.status, 'upstream_failed', 'error', failure.message);
  });
  upstreamReq.on('response', (res) => {
    // The server declined the upgrade: relay its answer as it is, then close.
    client.off('close', abandon);
    client.off('close', clientLeft);
    client.write(responseHead(res));
    res.pipe(client);
    res.on('error', () => client.destroy());
    res.once('end', () => client.end());
    client.once('close', finish);
  });
  upstreamReq.on('upgrade', (res, upstream: Socket, upstreamHead: Buffer) => {
    client.off('close', abandon);
    upstream.setTimeout(0);
    if (res.headers['sec-websocket-extensions'] !== undefined) {
      upstream.destroy();
      answer(502, 'upstream_failed', 'error', 'upstream negotiated a WebSocket extension the proxy did not offer');
      return;
    }
    client.off('close', clientLeft);
    relayInspected(ctx, client, head, res, upstream, upstreamHead, unreadable, finish);
  });
  upstreamReq.end();
}

/** Switched: server frames pass through, client messages go through the gate. */
function relayInspected(
  ctx: RequestContext,
  client: Duplex,
  clientHead: Buffer,
  res: IncomingMessage,
  upstream: Socket,
  upstreamHead: Buffer,
  unreadable: () => UninspectableRule,
  finish: () => void,
): void {
  const cfg = ctx.config;
  const policy = policyOf(cfg);
  const findings: AppliedFinding[] = [...ctx.findings];
  const inspect = (payload: Buffer, kind: MessageKind): MessageVerdict => {
    // A close frame's first two bytes are its status code; the rest is client text like any message.
    const textStart = kind === 'close' ? Math.min(2, payload.length) : 0;
    const text = payload.subarray(textStart);
    if (text.length === 0) return { action: 'forward' };
    const scanned = inspectCompleteBody(cfg, ctx.meter, text, { contentType: undefined, contentEncoding: undefined }, 'body');
    if (scanned.findings.length === 0 && scanned.uninspectable === undefined) return { action: 'forward' };
    const verdict = decide(policy, scanned.findings, scanned.uninspectable, unreadable);
    for (const f of verdict.findings) if (findings.length < MAX_FINDINGS_PER_CONNECTION) findings.push(f);
    ctx.findings = findings;
    ctx.settle(verdict.decision, `WebSocket ${kind} message: ${verdict.reason}`);
    if (verdict.outcome === 'block') {
      const detectors = detectorIds(verdict.findings.filter((f) => f.applied !== 'monitor'));
      return { action: 'close', code: 1008, reason: `blocked by data-loss policy${detectors.length > 0 ? `: ${detectors.join(', ')}` : ''}` };
    }
    if (verdict.outcome === 'redact') {
      const masked = cfg.scanner.redact(text, verdict.toRedact.map((f) => f.finding));
      return { action: 'replace', payload: textStart === 0 ? masked : Buffer.concat([payload.subarray(0, textStart), masked]) };
    }
    return { action: 'forward' };
  };

  let closed = false;
  const teardown = (): void => {
    if (closed) return;
    closed = true;
    upstream.destroy();
    client.destroy();
    finish();
  };
  const gate = new ClientMessageGate({
    maxMessageBytes: cfg.spec.inspection.maxBodyBytes,
    inspect,
    forward: (bytes) => {
      if (!upstream.write(bytes)) {
        client.pause();
        upstream.once('drain', () => client.resume());
      }
    },
    close: (code, reason) => {
      if (code !== 1008) ctx.settle(policy.mode === 'Protect' ? 'blocked' : 'uninspected', `WebSocket closed by the proxy (${code}): ${reason}`);
      // Reported now: the audit line must not wait for the sockets to drain.
      finish();
      upstream.end(clientCloseFrame(1001, 'going away'));
      client.end(serverCloseFrame(code, reason));
      setTimeout(teardown, 1000).unref();
    },
  });

  client.write(responseHead(res));
  if (upstreamHead.length > 0) client.write(upstreamHead);
  upstream.pipe(client, { end: false });
  client.on('data', (chunk: Buffer) => {
    ctx.requestBytes += chunk.length;
    gate.write(chunk);
  });
  if (clientHead.length > 0) {
    ctx.requestBytes += clientHead.length;
    gate.write(clientHead);
  }
  upstream.on('end', () => client.end());
  upstream.on('close', () => {
    if (!gate.closed) teardown();
  });
  upstream.on('error', teardown);
  client.on('error', teardown);
  client.on('close', teardown);
}

/** The handshake toward the upstream: end-to-end headers, Host and Via rewritten, the upgrade re-stated, no extension offers. */
function handshakeHeaders(req: IncomingMessage, host: string, loopGuard: LoopGuard): OutgoingHttpHeaders {
  const headers = endToEndRequestHeaders(req.headers);
  delete headers['sec-websocket-extensions'];
  headers.host = host;
  const via = loopGuard.viaEntry(req.httpVersion);
  headers.via = req.headers.via ? `${req.headers.via}, ${via}` : via;
  headers.connection = 'Upgrade';
  headers.upgrade = 'websocket';
  return headers;
}

/** The upstream's status line and headers, in its order and spelling. */
function responseHead(res: IncomingMessage): string {
  let head = `HTTP/1.1 ${res.statusCode ?? 502} ${res.statusMessage ?? ''}\r\n`;
  for (let i = 0; i + 1 < res.rawHeaders.length; i += 2) head += `${res.rawHeaders[i]}: ${res.rawHeaders[i + 1]}\r\n`;
  return `${head}\r\n`;
}

function hostOnly(host: string): string {
  return host.includes(':') ? `[${host}]` : host;
}
