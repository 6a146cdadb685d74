// One absolute-form HTTP request through the proxy, in order:
//   target → loop check → URL/header scan → egress policy → (100-continue)
//   → hold back the body window → verdict → block | redact | forward
//   → stream the rest, scanning each chunk → response (optionally scanned).
// Each step that refuses answers with a JSON body that names detectors and
// reasons, never matched values, and every path ends in the reporter.
import type { IncomingHttpHeaders, IncomingMessage, OutgoingHttpHeaders, ServerResponse } from 'node:http';
import type { Readable } from 'node:stream';
import { performance } from 'node:perf_hooks';
import type { RuntimeConfig } from '../profile';
import { formatHostPort, parseAbsoluteTarget, type Destination, type HttpTarget } from '../http/destination';
import { TargetError, type UpstreamError } from '../http/errors';
import type { Forwarder, ForwardHandle } from '../http/forwarder';
import { endToEndRequestHeaders, endToEndResponseHeaders } from '../http/hop-by-hop';
import type { LoopGuard } from '../http/loop-guard';
import { sendJson } from '../http/responses';
import { inspectCompleteBody } from '../inspect-pipeline/body-scan';
import { holdBack } from '../inspect-pipeline/hold-back';
import { InspectedBody } from '../inspect-pipeline/inspected-body';
import { scanRequestMetadata, type MetadataScan } from '../inspect-pipeline/metadata-scan';
import { inspectPayload, wantsViews } from '../inspect-pipeline/scan-support';
import { StreamingBodyScan, type ChunkInspection } from '../inspect-pipeline/streaming-scan';
import {
  decide,
  detectorIds,
  policyOf,
  uninspectableRule,
  type FindingPlace,
  type LocatedFinding,
  type PolicyView,
  type Uninspectable,
  type UninspectableRule,
  type Verdict,
} from '../inspect-pipeline/verdict';
import type { ProxyMetrics } from '../metrics/proxy-metrics';
import type { OutcomeReporter } from './outcome-reporter';
import type { RequestContext } from './request-context';
import type { TenancyGuard } from '../tenancy/tenancy-guard';
import type { TlsOriginator } from '../tls/origination';
import { transparentOriginOf } from '../transparent/origin';
import { capturedHttpTarget, decideHttpEgress, upstreamTargetFor } from '../transparent/http-capture';
import { interceptedOriginOf } from '../tls/intercepted-origin';
import { interceptedHttpTarget } from '../tls/intercepted-request';

export interface HttpExchangeDeps {
  forwarder: Forwarder;
  loopGuard: LoopGuard;
  reporter: OutcomeReporter;
  metrics: ProxyMetrics;
  upstreamTimeoutMs: number;
  /** Tenant isolation (profile tenancy.denyCrossTenant). */
  tenancy?: TenancyGuard;
  /** TLS origination for hosts the profile lists under tlsOrigination. */
  tlsOrigination?: TlsOriginator;
}

const EMPTY_BODY = Buffer.alloc(0);

/** The stream engines report a finding within this many bytes; more tail than this only adds latency. */
const MAX_TAIL_BYTES = 64 * 1024;

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

  res.once('close', () => {
    // The client is gone or got its answer: an unfinished upload has nobody left to serve.
    if (forwarded && !Buffer.isBuffer(forwarded.body) && !forwarded.body.readableEnded) forwarded.handle.abort();
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
    ctx.settle('denied_cross_tenant', tenancy.detail);
    sendJson(
      res,
      403,
      { error: 'denied_cross_tenant', requestId: ctx.id, destination: ctx.auditDestination, reason: tenancy.detail },
      { requestId: ctx.id, close: hasBody },
    );
    return;
  }
  const upstream = intercepted
    ? { target: { host: intercepted.host, port: intercepted.port, tls: { agent: intercepted.agent } } }
    : upstreamTargetFor(cfg, dest, origin, deps.tlsOrigination);
  if ('error' in upstream) {
    ctx.settle('error', upstream.error.message);
    sendJson(res, 502, { error: 'upstream_failed', requestId: ctx.id, reason: upstream.error.message }, { requestId: ctx.id, close: hasBody });
    return;
  }

  const egress = decideHttpEgress(cfg, dest, origin);
  if (!egress.allowed) {
    const why = `egress ${egress.reason}${egress.rule ? ` (${egress.rule})` : ''}`;
    if (policy.mode === 'Protect') {
      ctx.findings = decide(policy, meta?.findings ?? []).findings;
      ctx.settle('denied_destination', why);
      sendJson(
        res,
        403,
        { error: 'denied_destination', requestId: ctx.id, destination: ctx.auditDestination, reason: why },
        { requestId: ctx.id, close: hasBody },
      );
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
  if (expectsContinue) res.writeContinue();

  let verdict = before;
  // Without body inspection the client request itself is the body; without a body, nothing is.
  let body: Readable | Buffer = hasBody ? req : EMPTY_BODY;
  let path = target.path;
  let scan: StreamingBodyScan | undefined;
  let held: { prefix: Buffer; complete: boolean } | undefined;

  if (!hasBody) {
    // Nothing to hold back.
  } else if (!inspection.requestBody) {
    // The profile opted out of body inspection: the body streams through untouched.
    if (req.headers['transfer-encoding'] !== undefined) outHeaders['transfer-encoding'] = 'chunked';
  } else {
    let window;
    try {
      window = await holdBack(req, Math.max(1, inspection.holdBackBytes));
    } catch {
      ctx.settle('error', 'client aborted or sent a malformed body');
      res.destroy();
      return;
    }
    ctx.requestBytes = window.bytes;
    const prefix = window.chunks.length === 1 ? window.chunks[0] : Buffer.concat(window.chunks, window.bytes);
    const bodyHeaders = { contentEncoding: header(req.headers, 'content-encoding'), contentType: header(req.headers, 'content-type') };
    let bodyFindings: LocatedFinding[];
    let bodyProblem: Uninspectable | undefined;
    if (window.complete) {
      const result = inspectCompleteBody(cfg, ctx.meter, prefix, bodyHeaders, 'body');
      bodyFindings = result.findings;
      bodyProblem = result.uninspectable;
    } else {
      scan = new StreamingBodyScan(cfg, ctx.meter, bodyHeaders, {
        place: 'body',
        decidedPrefixBytes: window.bytes,
        onAsync: (r) => void lateInspection(r),
      });
      const first = scan.write(prefix);
      bodyFindings = first.findings;
      bodyProblem = first.uninspectable;
      if (wantsViews(cfg) && bodyHeaders.contentEncoding === undefined) {
        // Decoded views of the window; the stream has already reported the raw findings.
        const views = inspectPayload(cfg, ctx.meter, prefix, { source: 'body', contentType: bodyHeaders.contentType });
        for (const f of views.findings) {
          if (f.view === undefined) continue;
          if (bodyFindings.some((b) => b.finding.detector === f.detector && b.finding.start < f.end && f.start < b.finding.end)) continue;
          bodyFindings.push({ finding: f, place: 'body', unredactable: `only visible in a decoded view (${f.view})` });
        }
        // A window cut mid-structure decodes partially; only engine limits make it uninspectable.
        if (views.uninspectable && views.uninspectable.code !== 'KDLP_VIEWS_TRUNCATED') bodyProblem ??= views.uninspectable;
      }
    }
    uninspectable ??= bodyProblem;
    verdict = decide(policy, [...(meta?.findings ?? []), ...bodyFindings], uninspectable, unreadable);
    if (verdict.outcome === 'block') {
      scan?.destroy();
      block(res, ctx, verdict, !window.complete);
      return;
    }
    held = { prefix, complete: window.complete };
  }

  if (verdict.outcome === 'redact') {
    if (meta) ({ path, headers: outHeaders } = meta.redact(verdict.toRedact, path, outHeaders));
    const inBody = verdict.toRedact.filter((f) => f.place === 'body').map((f) => f.finding);
    if (held && inBody.length > 0) held.prefix = cfg.scanner.redact(held.prefix, inBody);
  }

  if (held) {
    if (held.complete) {
      // The whole (possibly redacted) message is in hand: send it with its exact length.
      delete outHeaders['transfer-encoding'];
      outHeaders['content-length'] = String(held.prefix.length);
      body = held.prefix;
    } else {
      if (req.headers['transfer-encoding'] !== undefined) outHeaders['transfer-encoding'] = 'chunked';
      const inspected = new InspectedBody({
        prefix: held.prefix,
        source: req,
        scan,
        tailBytes: Math.min(cfg.scanner.maxMatchWidth, MAX_TAIL_BYTES),
        onInspection: (r) => lateInspection(r),
      });
      inspected.once('close', () => {
        ctx.requestBytes += inspected.sourceBytes;
      });
      body = inspected;
    }
  }

  ctx.findings = verdict.findings;
  ctx.uninspectable = uninspectable;
  ctx.settle(verdict.decision, verdict.reason);

  // Findings after forwarding began: re-decide with everything known so far.
  const lateFindings: LocatedFinding[] = [];
  let lateProblem: Uninspectable | undefined;
  let stoppedLate = false;
  function lateInspection(result: ChunkInspection): boolean {
    if (stoppedLate) return true;
    lateFindings.push(...result.findings);
    lateProblem ??= result.uninspectable;
    const now = decide(policy, [...verdict.findings, ...lateFindings], uninspectable ?? lateProblem, unreadable);
    ctx.findings = now.findings;
    ctx.uninspectable = uninspectable ?? lateProblem;
    if (now.outcome !== 'block') {
      if (now.decision === 'uninspected') ctx.settle('uninspected', now.reason);
      return false;
    }
    stoppedLate = true;
    ctx.settle('blocked_late', `${now.reason}${now.reason.includes('upstream request aborted') ? '' : '; found after forwarding began, upstream request aborted'}`);
    if (body instanceof InspectedBody) body.stop();
    forwarded?.handle.abort();
    if (!block(res, ctx, { ...now, decision: 'blocked_late', reason: ctx.reason }, true)) res.destroy();
    return true;
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
      ctx.settle('error', side === 'client' ? 'client request failed' : err.message);
      if (side === 'client' || !sendJson(res, err.status, { error: 'upstream_failed', requestId: ctx.id, reason: err.message }, { requestId: ctx.id, close: true })) {
        res.destroy();
      }
    },
  });
  forwarded = { handle, body };
}

/** Answer a blocked request: 403, detector ids and the reason, never the value. */
function block(res: ServerResponse, ctx: RequestContext, verdict: Verdict, bodyLeftUnread: boolean): boolean {
  ctx.findings = verdict.findings;
  ctx.settle(verdict.decision, verdict.reason);
  return sendJson(
    res,
    403,
    { error: 'blocked', requestId: ctx.id, detectors: detectorIds(verdict.findings.filter((f) => f.applied !== 'monitor')), reason: verdict.reason },
    { requestId: ctx.id, close: bodyLeftUnread },
  );
}

function refuse(res: ServerResponse, ctx: RequestContext, deps: HttpExchangeDeps, err: TargetError, hasBody: boolean): void {
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
  const cfg: RuntimeConfig = ctx.config;
  const inspection = cfg.spec.inspection;
  let window;
  try {
    window = await holdBack(upstreamRes, Math.max(1, inspection.holdBackBytes));
  } catch {
    ctx.settle('error', 'upstream response failed');
    res.destroy();
    return;
  }
  const prefix = window.chunks.length === 1 ? window.chunks[0] : Buffer.concat(window.chunks, window.bytes);
  const bodyHeaders = { contentEncoding: header(upstreamRes.headers, 'content-encoding'), contentType: header(upstreamRes.headers, 'content-type') };
  const place: FindingPlace = 'response';
  let scan: StreamingBodyScan | undefined;
  let first: { findings: LocatedFinding[]; uninspectable?: Uninspectable };
  const requestFindings = ctx.findings;
  const late: LocatedFinding[] = [];
  let lateProblem: Uninspectable | undefined;
  let stopped = false;
  let body: InspectedBody | undefined;

  const onLate = (r: ChunkInspection): boolean => {
    if (stopped) return true;
    late.push(...r.findings);
    lateProblem ??= r.uninspectable;
    const now = decide(policy, [...first.findings, ...late], first.uninspectable ?? lateProblem, unreadable);
    ctx.findings = [...requestFindings, ...now.findings];
    if (now.outcome !== 'block') return false;
    stopped = true;
    // The status line is already out: the only way to withhold the rest is to cut the response.
    ctx.settle('blocked_late', `response: ${now.reason}; response truncated`);
    body?.stop();
    upstreamRes.destroy();
    res.destroy();
    return true;
  };

  if (window.complete) {
    first = inspectCompleteBody(cfg, ctx.meter, prefix, bodyHeaders, place);
  } else {
    scan = new StreamingBodyScan(cfg, ctx.meter, bodyHeaders, { place, decidedPrefixBytes: window.bytes, onAsync: (r) => void onLate(r) });
    first = scan.write(prefix);
  }
  const verdict = decide(policy, first.findings, first.uninspectable, unreadable);
  ctx.findings = [...requestFindings, ...verdict.findings];
  if (verdict.outcome === 'block') {
    scan?.destroy();
    upstreamRes.destroy();
    ctx.settle(verdict.decision, `response: ${verdict.reason}`);
    sendJson(
      res,
      403,
      { error: 'blocked', requestId: ctx.id, detectors: detectorIds(verdict.findings.filter((f) => f.applied !== 'monitor')), reason: `response: ${verdict.reason}` },
      { requestId: ctx.id },
    );
    return;
  }
  let out = prefix;
  if (verdict.outcome === 'redact') out = cfg.scanner.redact(prefix, verdict.toRedact.map((f) => f.finding));
  if (verdict.decision !== 'allowed') ctx.settle(verdict.decision, `response: ${verdict.reason}`);
  if (window.complete) {
    delete headers['transfer-encoding'];
    headers['content-length'] = String(out.length);
    res.writeHead(status, upstreamRes.statusMessage, headers);
    res.end(out);
    return;
  }
  body = new InspectedBody({
    prefix: out,
    source: upstreamRes,
    scan,
    tailBytes: Math.min(cfg.scanner.maxMatchWidth, MAX_TAIL_BYTES),
    onInspection: onLate,
  });
  body.on('error', () => res.destroy());
  res.writeHead(status, upstreamRes.statusMessage, headers);
  body.pipe(res);
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
