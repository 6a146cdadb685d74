// One absolute-form HTTP request through the proxy, in order:
//   target → loop check → URL/header scan → egress policy → (100-continue)
//   → body through the inspection stage (hold-back window → verdict →
//   block | redact | forward under the scan-before-send watermark)
//   → response (optionally through the same stage).
// Each step that refuses answers with a JSON body that names detectors and
// reasons, never matched values, and every path ends in the reporter.
import type { IncomingHttpHeaders, IncomingMessage, OutgoingHttpHeaders, ServerResponse } from 'node:http';
import type { Readable } from 'node:stream';
import { performance } from 'node:perf_hooks';
import { formatHostPort, parseAbsoluteTarget, type Destination, type HttpTarget } from '../http/destination';
import { TargetError, UpstreamError } from '../http/errors';
import type { Forwarder, ForwardHandle } from '../http/forwarder';
import { endToEndRequestHeaders, endToEndResponseHeaders } from '../http/hop-by-hop';
import type { LoopGuard } from '../http/loop-guard';
import type { NameResolver } from '../http/name-resolver';
import { sendJson } from '../http/responses';
import type { BodyHeaders } from '../inspect-pipeline/body-scan';
import { inspectBody, InspectionStage } from '../inspect-pipeline/inspection-stage';
import { scanRequestMetadata, type MetadataScan } from '../inspect-pipeline/metadata-scan';
import {
  decide,
  policyOf,
  uninspectableRule,
  type LocatedFinding,
  type PolicyView,
  type Uninspectable,
  type UninspectableRule,
  type Verdict,
} from '../inspect-pipeline/verdict';
import { refuseBody, refuseDestination } from './refusals';
import type { ProxyMetrics } from '../metrics/proxy-metrics';
import type { OutcomeReporter } from '../exchange/outcome-reporter';
import { describeEgress, pinDestination } from './pinned-destination';
import type { RequestContext } from '../exchange/request-context';
import type { TenancyGuard } from '../tenancy/tenancy-guard';
import type { TlsOriginator } from '../tls/origination';
import { transparentOriginOf } from '../exchange/transparent-origin';
import { capturedHttpTarget, decideHttpEgress, upstreamTargetFor } from '../exchange/http-capture';
import { interceptedOriginOf } from '../tls/intercepted-origin';
import { interceptedHttpTarget } from '../tls/intercepted-request';

/** What an exchange needs besides the forwarder: HTTP and WebSocket upgrades share it. */
export interface ExchangeDeps {
  loopGuard: LoopGuard;
  reporter: OutcomeReporter;
  metrics: ProxyMetrics;
  upstreamTimeoutMs: number;
  /** Tenant isolation (profile tenancy.denyCrossTenant). */
  tenancy?: TenancyGuard;
  /** TLS origination for hosts the profile lists under tlsOrigination. */
  tlsOrigination?: TlsOriginator;
  /** The one lookup of an explicit destination's name (the system resolver outside tests). */
  resolver: NameResolver;
}

export interface HttpExchangeDeps extends ExchangeDeps {
  forwarder: Forwarder;
}

const EMPTY_BODY = Buffer.alloc(0);

export async function handleHttpExchange(
  ctx: RequestContext,
  req: IncomingMessage,
  res: ServerResponse,
  deps: HttpExchangeDeps,
  expectsContinue: boolean,
): Promise<void> {
  const cfg = ctx.config;
  const policy = policyOf(cfg);
  const hasBody = requestHasBody(req.headers);
  let forwarded: { handle: ForwardHandle; body: Readable | Buffer } | undefined;

  let holdingBack = false;
  res.once('close', () => {
    // The client is gone or got its answer: an unfinished upload has nobody left to serve.
    if (forwarded && !Buffer.isBuffer(forwarded.body) && !forwarded.body.readableEnded) forwarded.handle.abort();
    if (ctx.decision === undefined && ctx.refusedAs === undefined) settleClientAbort(ctx, deps.metrics, holdingBack);
    deps.reporter.finish(ctx);
  });

  // Captured by the transparent listener: origin-form, Host header, original destination.
  const origin = transparentOriginOf(req.socket);
  // Decrypted by TLS interception: origin-form, bound to the verified upstream of its tunnel.
  const intercepted = interceptedOriginOf(req.socket);
  let target: HttpTarget;
  try {
    target = intercepted ? interceptedHttpTarget(intercepted, req) : origin ? capturedHttpTarget(origin, req) : parseAbsoluteTarget(req.url ?? '');
  } catch (err) {
    if (!(err instanceof TargetError)) throw err;
    refuse(res, ctx, deps, err, hasBody);
    return;
  }
  const dest = target.destination;
  ctx.destination = dest;
  ctx.auditDestination = formatHostPort(dest);
  if (deps.loopGuard.isSelf(dest) || deps.loopGuard.seenBefore(req.headers.via)) {
    refuse(res, ctx, deps, new TargetError('KDLP_PROXY_LOOP', 508, 'loop', 'request is addressed to the proxy itself'), hasBody);
    return;
  }

  let outHeaders = outgoingHeaders(req, dest, deps.loopGuard);
  if ((origin || intercepted) && req.headers.host !== undefined) outHeaders.host = req.headers.host;
  const inspection = cfg.spec.inspection;
  let meta: MetadataScan | undefined;
  if (inspection.url || inspection.headers) {
    meta = scanRequestMetadata(cfg, ctx.meter, target, outHeaders);
    ctx.auditDestination = meta.auditDestination;
    ctx.auditPath = meta.auditPath;
  }
  // Without URL inspection the path is not scanned, so only the sanitized form is ever logged.
  ctx.auditPath ??= target.path;

  const tenancy = deps.tenancy?.decide({ host: dest.host, address: origin?.address }, cfg.spec.tenancy);
  if (tenancy && !tenancy.allowed) {
    ctx.findings = decide(policy, meta?.findings ?? []).findings;
    refuseDestination(res, ctx, 'denied_cross_tenant', tenancy.detail, hasBody);
    return;
  }
  const egress = decideHttpEgress(cfg, dest, origin);
  if (!egress.allowed) {
    const why = `egress ${egress.reason}${egress.rule ? ` (${egress.rule})` : ''}`;
    if (policy.mode === 'Protect') {
      ctx.findings = decide(policy, meta?.findings ?? []).findings;
      refuseDestination(res, ctx, 'denied_destination', why, hasBody);
      return;
    }
    ctx.note = `${why}: not enforced in Monitor mode`;
  }

  let uninspectable: Uninspectable | undefined = meta?.uninspectable;
  const declaredLength = contentLength(req.headers);
  if (hasBody && inspection.requestBody && declaredLength !== undefined && declaredLength > inspection.maxBodyBytes) {
    uninspectable ??= { code: 'KDLP_BODY_TOO_LARGE', reason: `body of ${declaredLength} bytes exceeds maxBodyBytes (${inspection.maxBodyBytes})` };
  }
  let unreadableRule: UninspectableRule | undefined;
  const unreadable = (): UninspectableRule => (unreadableRule ??= uninspectableRule(cfg, policy, dest));
  const before = decide(policy, meta?.findings ?? [], uninspectable, unreadable);
  if (before.outcome === 'block') {
    // Decided on URL/headers alone: the body is never read, let alone forwarded.
    block(res, ctx, before, hasBody);
    return;
  }
  // Captured connections already have their address; explicit ones get theirs
  // from the one lookup, after every name-only check (a refused name is never resolved).
  // Intercepted requests go to the address their tunnel was pinned to, over its verified TLS.
  const connectAddress = intercepted ? intercepted.address : origin ? origin.address : await pinExplicitUpstream(ctx, res, dest, deps, hasBody, meta?.findings ?? []);
  if (connectAddress === undefined) return;
  const upstream = intercepted
    ? { target: { host: intercepted.address, port: intercepted.port, ...(intercepted.agent ? { tls: { agent: intercepted.agent } } : {}) } }
    : upstreamTargetFor(cfg, dest, connectAddress, deps.tlsOrigination);
  if ('error' in upstream) {
    ctx.settle('error', upstream.error.message);
    sendJson(res, upstream.error.status, { error: 'upstream_failed', requestId: ctx.id, reason: upstream.error.message }, { requestId: ctx.id, close: hasBody });
    return;
  }
  if (expectsContinue) res.writeContinue();

  let verdict = before;
  // Without body inspection the client request itself is the body; without a body, nothing is.
  let body: Readable | Buffer = hasBody ? req : EMPTY_BODY;
  let path = target.path;
  let bodyProblem: Uninspectable | undefined;
  let stoppedLate = false;

  if (hasBody && !inspection.requestBody) {
    // The profile opted out of body inspection: the body streams through untouched.
    if (req.headers['transfer-encoding'] !== undefined) outHeaders['transfer-encoding'] = 'chunked';
  } else if (hasBody) {
    holdingBack = true;
    const first = await inspectBody({
      cfg,
      meter: ctx.meter,
      place: 'body',
      headers: bodyHeadersOf(req.headers),
      source: req,
      judge: (found, problem) => {
        bodyProblem = problem;
        return decide(policy, [...(meta?.findings ?? []), ...found], uninspectable ?? problem, unreadable);
      },
      onUpdate: (now) => lateVerdict(now),
    });
    holdingBack = false;
    if (first.kind === 'unreadable') {
      settleClientAbort(ctx, deps.metrics, true);
      res.destroy();
      return;
    }
    verdict = first.verdict;
    ctx.requestBytes = first.kind === 'complete' ? first.bytes : first.body.bytesReceived;
    if (verdict.outcome === 'block') {
      block(res, ctx, verdict, first.kind === 'streaming');
      return;
    }
    if (first.kind === 'complete') {
      // The whole (possibly redacted) message is in hand: send it with its exact length.
      ctx.requestBytes = first.bytes;
      delete outHeaders['transfer-encoding'];
      outHeaders['content-length'] = String(first.body.length);
      body = first.body;
    } else {
      const stage = first.body;
      if (req.headers['transfer-encoding'] !== undefined) outHeaders['transfer-encoding'] = 'chunked';
      stage.once('close', () => {
        ctx.requestBytes = stage.bytesReceived;
      });
      body = stage;
    }
  }

  if (verdict.outcome === 'redact' && meta) ({ path, headers: outHeaders } = meta.redact(verdict.toRedact, path, outHeaders));

  ctx.findings = verdict.findings;
  ctx.uninspectable = uninspectable ?? bodyProblem;
  ctx.settle(verdict.decision, verdict.reason);

  // The stage re-decides as findings arrive after forwarding began.
  function lateVerdict(now: Verdict): void {
    if (stoppedLate) return;
    ctx.findings = now.findings;
    ctx.uninspectable = uninspectable ?? bodyProblem;
    if (now.outcome !== 'block') {
      if (now.decision !== 'allowed') ctx.settle(now.decision, now.reason);
      return;
    }
    stoppedLate = true;
    if (body instanceof InspectionStage) ctx.requestBytes = body.bytesReceived;
    const reason = `${now.reason}${now.reason.includes('upstream request aborted') ? '' : '; found after forwarding began, upstream request aborted'}`;
    forwarded?.handle.abort();
    if (!block(res, ctx, { ...now, decision: 'blocked_late', reason }, true)) res.destroy();
  }

  const upstreamStarted = performance.now();
  const handle = deps.forwarder.forward(req, res, {
    target: upstream.target,
    method: req.method ?? 'GET',
    path,
    headers: outHeaders,
    body,
    timeoutMs: deps.upstreamTimeoutMs,
    onResponse: (upstreamRes) => {
      deps.metrics.upstreamLatency((performance.now() - upstreamStarted) / 1000);
      relayResponse(ctx, req, res, upstreamRes, policy, unreadable);
    },
    onError: (err: UpstreamError, side) => {
      if (stoppedLate) return;
      if (side === 'client') deps.metrics.clientAborted('forwarding');
      ctx.settle('error', side === 'client' ? 'client request failed' : err.message);
      // Like a client that refuses the CA, it names a host that needs tls.bypass.
      if (side === 'upstream' && err.code === 'KDLP_UPSTREAM_CLIENT_CERT_REQUIRED') ctx.auditFailure = true;
      if (side === 'client' || !sendJson(res, err.status, { error: 'upstream_failed', requestId: ctx.id, reason: err.message }, { requestId: ctx.id, close: true })) {
        res.destroy();
      }
    },
  });
  forwarded = { handle, body };
}

/**
 * Resolve an explicit destination once and judge every address it resolved
 * to (egress, tenancy). Returns the address to connect to, or undefined when
 * the request was answered here (denied, unresolvable).
 */
async function pinExplicitUpstream(
  ctx: RequestContext,
  res: ServerResponse,
  dest: Destination,
  deps: HttpExchangeDeps,
  hasBody: boolean,
  metaFindings: LocatedFinding[],
): Promise<string | undefined> {
  const policy = policyOf(ctx.config);
  let pinned;
  try {
    pinned = await pinDestination(ctx.config, dest, { resolver: deps.resolver, resolveTimeoutMs: deps.upstreamTimeoutMs, tenancy: deps.tenancy }, true);
  } catch (err) {
    if (!(err instanceof UpstreamError)) throw err;
    ctx.settle('error', err.message);
    sendJson(res, err.status, { error: 'upstream_failed', requestId: ctx.id, reason: err.message }, { requestId: ctx.id, close: hasBody });
    return undefined;
  }
  if (deps.loopGuard.isSelf({ host: pinned.address, port: dest.port })) {
    refuse(res, ctx, deps, new TargetError('KDLP_PROXY_LOOP', 508, 'loop', 'request is addressed to the proxy itself'), hasBody);
    return undefined;
  }
  if (pinned.tenancy && !pinned.tenancy.allowed) {
    ctx.findings = decide(policy, metaFindings).findings;
    refuseDestination(res, ctx, 'denied_cross_tenant', pinned.tenancy.detail, hasBody);
    return undefined;
  }
  if (!pinned.egress.allowed) {
    const why = `${describeEgress(pinned.egress)} for an address the name resolved to`;
    if (policy.mode === 'Protect') {
      ctx.findings = decide(policy, metaFindings).findings;
      refuseDestination(res, ctx, 'denied_destination', why, hasBody);
      return undefined;
    }
    ctx.note ??= `${why}: not enforced in Monitor mode`;
  }
  return pinned.address;
}

/** Answer a blocked request: 403, detector ids and the reason, never the value. */
function block(res: ServerResponse, ctx: RequestContext, verdict: Verdict, bodyLeftUnread: boolean): boolean {
  ctx.findings = verdict.findings;
  return refuseBody(res, ctx, verdict, bodyLeftUnread);
}

/**
 * The client reset or closed before the exchange had an outcome: still exactly
 * one counted outcome (an error decision, and the stage in
 * kubedlp_client_aborts_total); a reset during hold-back is also audited,
 * because the proxy held body bytes it then never forwarded.
 */
export function settleClientAbort(ctx: RequestContext, metrics: ProxyMetrics, duringHoldBack: boolean): void {
  if (ctx.decision !== undefined || ctx.refusedAs !== undefined) return;
  if (duringHoldBack) {
    ctx.settle('error', 'client reset the connection during hold-back');
    ctx.note = 'request body incomplete: nothing was forwarded';
    metrics.clientAborted('hold_back');
  } else {
    ctx.settle('error', 'client left before the request was decided');
    metrics.clientAborted('before_decision');
  }
}

function refuse(res: ServerResponse, ctx: RequestContext, deps: HttpExchangeDeps, err: TargetError, hasBody: boolean): void {
  ctx.refusedAs = err.reason;
  deps.metrics.badRequest(err.reason);
  sendJson(res, err.status, { error: err.reason, requestId: ctx.id, reason: err.message }, { requestId: ctx.id, close: hasBody });
}

/** Upstream answered: relay it, scanning the body when the profile asks for response inspection. */
function relayResponse(
  ctx: RequestContext,
  req: IncomingMessage,
  res: ServerResponse,
  upstreamRes: IncomingMessage,
  policy: PolicyView,
  unreadable: () => UninspectableRule,
): void {
  const status = upstreamRes.statusCode ?? 502;
  const headers = endToEndResponseHeaders(upstreamRes.headers);
  upstreamRes.once('aborted', () => {
    ctx.settle('error', 'upstream response aborted');
    res.destroy();
  });
  upstreamRes.on('error', () => {
    ctx.settle('error', 'upstream response failed');
    res.destroy();
  });
  if (!ctx.config.spec.inspection.responseBody || !responseHasBody(req.method, status, upstreamRes.headers)) {
    res.writeHead(status, upstreamRes.statusMessage, headers);
    upstreamRes.pipe(res);
    return;
  }
  void relayInspectedResponse(ctx, res, upstreamRes, status, headers, policy, unreadable);
}

async function relayInspectedResponse(
  ctx: RequestContext,
  res: ServerResponse,
  upstreamRes: IncomingMessage,
  status: number,
  headers: OutgoingHttpHeaders,
  policy: PolicyView,
  unreadable: () => UninspectableRule,
): Promise<void> {
  const requestFindings = ctx.findings;
  let stopped = false;
  const first = await inspectBody({
    cfg: ctx.config,
    meter: ctx.meter,
    place: 'response',
    headers: bodyHeadersOf(upstreamRes.headers),
    source: upstreamRes,
    judge: (found, problem) => decide(policy, found, problem, unreadable),
    onUpdate: (now) => {
      if (stopped) return;
      ctx.findings = [...requestFindings, ...now.findings];
      if (now.outcome !== 'block') return;
      stopped = true;
      // The status line is already out: the only way to withhold the rest is to cut the response.
      ctx.settle('blocked_late', `response: ${now.reason}; response truncated`);
      upstreamRes.destroy();
      res.destroy();
    },
  });
  if (first.kind === 'unreadable') {
    ctx.settle('error', 'upstream response failed');
    res.destroy();
    return;
  }
  const verdict = first.verdict;
  ctx.findings = [...requestFindings, ...verdict.findings];
  if (verdict.outcome === 'block') {
    upstreamRes.destroy();
    refuseBody(res, ctx, { ...verdict, reason: `response: ${verdict.reason}` }, false);
    return;
  }
  if (verdict.decision !== 'allowed') ctx.settle(verdict.decision, `response: ${verdict.reason}`);
  if (first.kind === 'complete') {
    delete headers['transfer-encoding'];
    headers['content-length'] = String(first.body.length);
    res.writeHead(status, upstreamRes.statusMessage, headers);
    res.end(first.body);
    return;
  }
  const stage = first.body;
  stage.on('error', () => res.destroy());
  res.writeHead(status, upstreamRes.statusMessage, headers);
  stage.pipe(res);
}

function bodyHeadersOf(headers: IncomingHttpHeaders): BodyHeaders {
  return { contentEncoding: header(headers, 'content-encoding'), contentType: header(headers, 'content-type') };
}

function outgoingHeaders(req: IncomingMessage, dest: Destination, loopGuard: LoopGuard): OutgoingHttpHeaders {
  const headers = endToEndRequestHeaders(req.headers);
  // RFC 9112 §3.2.2: a proxy replaces Host with the authority of the absolute-form target.
  headers.host = dest.port === 80 ? hostOnly(dest.host) : formatHostPort(dest);
  const via = loopGuard.viaEntry(req.httpVersion);
  const existing = req.headers.via;
  headers.via = existing ? `${existing}, ${via}` : via;
  return headers;
}

function hostOnly(host: string): string {
  return host.includes(':') ? `[${host}]` : host;
}

function header(headers: IncomingHttpHeaders, name: string): string | undefined {
  const v = headers[name];
  return Array.isArray(v) ? v.join(', ') : v;
}

function contentLength(headers: IncomingHttpHeaders): number | undefined {
  const v = headers['content-length'];
  if (v === undefined) return undefined;
  const n = Number(v);
  return Number.isFinite(n) && n >= 0 ? n : undefined;
}

export function requestHasBody(headers: IncomingHttpHeaders): boolean {
  if (headers['transfer-encoding'] !== undefined) return true;
  const length = contentLength(headers);
  return length !== undefined && length > 0;
}

function responseHasBody(method: string | undefined, status: number, headers: IncomingHttpHeaders): boolean {
  if (method === 'HEAD' || status === 204 || status === 304 || (status >= 100 && status < 200)) return false;
  return headers['content-length'] !== '0';
}
