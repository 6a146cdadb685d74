// One HTTP/2 stream on an intercepted TLS connection, or on a captured
// cleartext one (h2c): the same exchange an intercepted or captured
// HTTP/1.1 request gets (proxy/server/http-exchange.ts), in order:
//   target (bound to the tunnel's verified host; captured: the :authority
//   at the original address) → loop check → URL/header scan → tenancy and
//   egress (captured: on the name and the address) → request body through
//   inspection (the hold-back stage; gRPC message by message) → forwarded
//   over the connection's HTTP/2 upstream → response and trailers relayed.
// Refusals answer plain HTTP/2 with the HTTP/1.1 JSON bodies and gRPC with a
// trailers-only status; every path ends in the reporter.
import http2 from 'node:http2';
import type { OutgoingHttpHeaders } from 'node:http';
import type { Readable } from 'node:stream';
import { performance } from 'node:perf_hooks';
import { formatHostPort } from '../http/destination';
import { TargetError } from '../http/errors';
import type { LoopGuard } from '../http/loop-guard';
import type { ProxyMetrics } from '../metrics/proxy-metrics';
import type { OutcomeReporter } from '../exchange/outcome-reporter';
import type { RequestContext } from '../exchange/request-context';
import { capturedTarget, decideHttpEgress } from '../exchange/http-capture';
import type { TransparentOrigin } from '../exchange/transparent-origin';
import type { HttpTarget } from '../http/destination';
import { inspectBody, InspectionStage } from '../inspect-pipeline/inspection-stage';
import { scanRequestMetadata, type MetadataScan } from '../inspect-pipeline/metadata-scan';
import { decide, policyOf, uninspectableRule, type Uninspectable, type UninspectableRule, type Verdict } from '../inspect-pipeline/verdict';
import type { TenancyGuard } from '../tenancy/tenancy-guard';
import { interceptedTarget, type InterceptedTargetOrigin } from '../tls/intercepted-request';
import { bodyRefusal, destinationRefusal, refusingDetectors } from '../server/refusals';
import { settleClientAbort } from '../server/http-exchange';
import { relayGrpcBody } from './grpc-request-body';
import { isGrpcContentType } from './grpc-message-scan';
import type { H2Upstream } from './h2-upstream';
import { GrpcBoundaryTracker } from './grpc-frames';
import { GRPC_STATUS, grpcStatusFields, resetStream, respondGrpcStatus, respondJson } from './h2-responses';
import { CLIENT_CERTIFICATE_ADVICE, isClientCertificateRequired } from '../tls/tls-outcome';

/** An intercepted connection that negotiated h2: its verified host and the HTTP/2 upstream it is bound to. */
export interface InterceptedH2Origin extends InterceptedTargetOrigin {
  upstream: H2Upstream;
}

/** A captured cleartext connection that opened with the HTTP/2 preface: where it was going, and its upstream there. */
export interface CapturedH2Origin {
  captured: TransparentOrigin;
  upstream: H2Upstream;
}

export type H2Origin = InterceptedH2Origin | CapturedH2Origin;

/** The stream's destination and path, from its :path and :authority. */
function streamTarget(origin: H2Origin, path: string, authority: string | undefined): HttpTarget {
  return 'captured' in origin ? capturedTarget(origin.captured, path, authority) : interceptedTarget(origin, path, authority);
}

export interface H2ExchangeDeps {
  loopGuard: LoopGuard;
  reporter: OutcomeReporter;
  metrics: ProxyMetrics;
  upstreamTimeoutMs: number;
  tenancy?: TenancyGuard;
}

/**
 * Connection-specific fields (RFC 9113 §8.2.2) and the authority (sent as
 * :authority) are not forwarded; `te` only as "trailers", which gRPC needs.
 */
const NOT_FORWARDED = new Set(['connection', 'keep-alive', 'proxy-connection', 'transfer-encoding', 'upgrade', 'host', 'proxy-authorization', 'http2-settings']);

const { NGHTTP2_CANCEL } = http2.constants;

export async function handleH2Stream(
  ctx: RequestContext,
  stream: http2.ServerHttp2Stream,
  headers: http2.IncomingHttpHeaders,
  origin: H2Origin,
  deps: H2ExchangeDeps,
): Promise<void> {
  const cfg = ctx.config;
  const policy = policyOf(cfg);
  const grpc = isGrpcContentType(header(headers, 'content-type'));
  const hasBody = !stream.endAfterHeaders;
  let upstream: http2.ClientHttp2Stream | undefined;
  let relay: ResponseRelay | undefined;
  let holdingBack = false;
  // After a late block the upstream's own failure is not the outcome.
  let stopped = false;

  stream.on('error', () => undefined);
  stream.once('close', () => {
    if (upstream && !upstream.closed) upstream.close(NGHTTP2_CANCEL);
    if (ctx.decision === undefined && ctx.refusedAs === undefined) settleClientAbort(ctx, deps.metrics, holdingBack);
    deps.reporter.finish(ctx);
  });

  // gRPC clients read a status, not a body: each refusal has both forms. A
  // gRPC answer already under way can still end with the status as its
  // trailers, provided the client holds whole messages only.
  const refuseVerdict = (verdict: Verdict): void => {
    ctx.findings = verdict.findings;
    ctx.settle(verdict.decision, verdict.reason);
    let answered: boolean;
    if (grpc) {
      const message = `blocked by kube-dlp (request ${ctx.id}): ${refusingDetectors(verdict).join(', ') || verdict.reason}`;
      answered =
        respondGrpcStatus(stream, GRPC_STATUS.PERMISSION_DENIED, message, ctx.id) ||
        (relay?.endWith(grpcStatusFields(GRPC_STATUS.PERMISSION_DENIED, message, ctx.id)) ?? false);
    } else {
      answered = respondJsonOf(bodyRefusal(ctx, verdict));
    }
    if (!answered) resetStream(stream);
  };
  const refuseDestination = (decision: 'denied_destination' | 'denied_cross_tenant', reason: string): void => {
    ctx.settle(decision, reason);
    if (grpc) respondGrpcStatus(stream, GRPC_STATUS.PERMISSION_DENIED, `${decision} by kube-dlp (request ${ctx.id}): ${reason}`, ctx.id);
    else respondJsonOf(destinationRefusal(ctx, decision, reason));
  };
  let upstreamFailureReported = false;
  const upstreamFailed = (reason: string): void => {
    // After a block, or once the client is gone (we cancelled the upstream), its failure is not the outcome.
    // Nor is a second report of the same failure (a stream's error, then its reset): the client was told the first.
    if (stopped || stream.closed || stream.destroyed || upstreamFailureReported) return;
    upstreamFailureReported = true;
    ctx.settle('error', reason);
    const answered = grpc
      ? respondGrpcStatus(stream, GRPC_STATUS.UNAVAILABLE, `kube-dlp: ${reason}`, ctx.id)
      : respondJson(stream, 502, { error: 'upstream_failed', requestId: ctx.id, reason }, ctx.id);
    if (!answered) resetStream(stream);
  };
  function respondJsonOf(refusal: { status: number; body: object }): boolean {
    return respondJson(stream, refusal.status, refusal.body, ctx.id);
  }

  let target;
  try {
    target = streamTarget(origin, header(headers, ':path') ?? '', header(headers, ':authority') ?? header(headers, 'host'));
  } catch (err) {
    if (!(err instanceof TargetError)) throw err;
    ctx.refusedAs = err.reason;
    deps.metrics.badRequest(err.reason);
    if (grpc) respondGrpcStatus(stream, GRPC_STATUS.INVALID_ARGUMENT, `kube-dlp: ${err.message}`, ctx.id);
    else respondJson(stream, err.status, { error: err.reason, requestId: ctx.id, reason: err.message }, ctx.id);
    return;
  }
  const dest = target.destination;
  ctx.destination = dest;
  ctx.auditDestination = formatHostPort(dest);
  if (deps.loopGuard.seenBefore(headers.via)) {
    ctx.refusedAs = 'loop';
    deps.metrics.badRequest('loop');
    respondJson(stream, 508, { error: 'loop', requestId: ctx.id, reason: 'request is addressed to the proxy itself' }, ctx.id);
    return;
  }

  let outHeaders = forwardedHeaders(headers, deps.loopGuard);
  const inspection = cfg.spec.inspection;
  let meta: MetadataScan | undefined;
  if (inspection.url || inspection.headers) {
    meta = scanRequestMetadata(cfg, ctx.meter, target, outHeaders);
    ctx.auditDestination = meta.auditDestination;
    ctx.auditPath = meta.auditPath;
  }
  ctx.auditPath ??= target.path;
  const metaFindings = meta?.findings ?? [];

  // A captured stream is judged on its name and on the address it was really going to.
  const captured = 'captured' in origin ? origin.captured : undefined;
  const tenancy = deps.tenancy?.decide({ host: dest.host, address: captured?.address }, cfg.spec.tenancy);
  if (tenancy && !tenancy.allowed) {
    ctx.findings = decide(policy, metaFindings).findings;
    refuseDestination('denied_cross_tenant', tenancy.detail);
    return;
  }
  const egress = decideHttpEgress(cfg, dest, captured);
  if (!egress.allowed) {
    const why = `egress ${egress.reason}${egress.rule ? ` (${egress.rule})` : ''}`;
    if (policy.mode === 'Protect') {
      ctx.findings = decide(policy, metaFindings).findings;
      refuseDestination('denied_destination', why);
      return;
    }
    ctx.note = `${why}: not enforced in Monitor mode`;
  }

  let uninspectable: Uninspectable | undefined = meta?.uninspectable;
  const declaredLength = Number(header(headers, 'content-length') ?? NaN);
  if (hasBody && inspection.requestBody && declaredLength > inspection.maxBodyBytes) {
    uninspectable ??= { code: 'KDLP_BODY_TOO_LARGE', reason: `body of ${declaredLength} bytes exceeds maxBodyBytes (${inspection.maxBodyBytes})` };
  }
  if (inspection.responseBody) {
    // Answers are relayed as they come on HTTP/2 (response bodies are inspected on HTTP/1.1 only): under a
    // profile that inspects them, the stream is judged as uninspectable before anything is sent upstream.
    uninspectable ??= { code: 'KDLP_RESPONSE_NOT_INSPECTABLE', reason: 'the profile inspects response bodies (inspection.responseBody), which kube-dlp does on HTTP/1.1 only' };
  }
  let unreadableRule: UninspectableRule | undefined;
  const unreadable = (): UninspectableRule => (unreadableRule ??= uninspectableRule(cfg, policy, dest));
  const before = decide(policy, metaFindings, uninspectable, unreadable);
  if (before.outcome === 'block') {
    refuseVerdict(before);
    return;
  }
  const upstreamStarted = performance.now();
  /**
   * Open the upstream stream under `verdict` (every verdict includes the URL and header findings,
   * so its redactions apply to them exactly once, here); `endStream` when there is no body to send.
   */
  const openUpstream = (verdict: Verdict, endStream: boolean): http2.ClientHttp2Stream | undefined => {
    let path = target.path;
    let sent = outHeaders;
    if (verdict.outcome === 'redact' && meta) ({ path, headers: sent } = meta.redact(verdict.toRedact, path, outHeaders));
    const requestHeaders: http2.OutgoingHttpHeaders = {
      ':method': header(headers, ':method') ?? 'GET',
      ':scheme': origin.upstream.scheme,
      ':authority': header(headers, ':authority') ?? formatHostPort(dest),
      ':path': path,
      ...sent,
    };
    let up: http2.ClientHttp2Stream;
    try {
      up = origin.upstream.current().request(requestHeaders, { endStream });
    } catch {
      upstreamFailed(`upstream ${formatHostPort(dest)} unavailable over HTTP/2`);
      return undefined;
    }
    upstream = up;
    up.setTimeout(deps.upstreamTimeoutMs, () => {
      upstreamFailed(`upstream ${formatHostPort(dest)} did not answer within ${deps.upstreamTimeoutMs} ms`);
      up.close(NGHTTP2_CANCEL);
    });
    up.on('error', (err: NodeJS.ErrnoException) => {
      if (!isClientCertificateRequired(err)) return upstreamFailed(`upstream ${formatHostPort(dest)} failed over HTTP/2`);
      ctx.auditFailure = true;
      upstreamFailed(`upstream ${formatHostPort(dest)} ${CLIENT_CERTIFICATE_ADVICE}`);
    });
    up.once('close', () => {
      // A reset before any answer (or before the answer ended) must reach the client too.
      if (up.rstCode !== undefined && up.rstCode !== http2.constants.NGHTTP2_NO_ERROR) upstreamFailed(`upstream ${formatHostPort(dest)} reset the stream`);
    });
    relay = relayResponse(ctx, stream, up, grpc, () => deps.metrics.upstreamLatency((performance.now() - upstreamStarted) / 1000));
    return up;
  };

  if (!hasBody) {
    ctx.findings = before.findings;
    ctx.uninspectable = uninspectable;
    ctx.settle(before.decision, before.reason);
    openUpstream(before, true);
    return;
  }

  if (!inspection.requestBody) {
    // The profile opted out of body inspection: the body streams through untouched.
    settle(before);
    const up = openUpstream(before, false);
    if (up) stream.pipe(up);
    return;
  }

  if (grpc) {
    holdingBack = true;
    let up: http2.ClientHttp2Stream | undefined;
    let current = before;
    relayGrpcBody({
      cfg,
      meter: ctx.meter,
      grpcEncoding: header(headers, 'grpc-encoding'),
      source: stream,
      judge: (found, problem) => (current = decide(policy, [...metaFindings, ...found], uninspectable ?? problem, unreadable)),
      forward: (bytes) => {
        holdingBack = false;
        up ??= openUpstream(current, false);
        return up ? up.write(bytes) : true;
      },
      onDrain: (resume) => up?.once('drain', resume),
      end: (verdict, bytes) => {
        holdingBack = false;
        ctx.requestBytes = bytes;
        settle(verdict);
        if (up) up.end();
        else openUpstream(verdict, true);
      },
      block: (verdict, forwardedBefore, bytes) => {
        holdingBack = false;
        ctx.requestBytes = bytes;
        stopped = true;
        // The client's answer first: once the upstream is cancelled its relay would only cut the stream.
        refuseVerdict(forwardedBefore ? { ...verdict, decision: 'blocked_late', reason: `${verdict.reason}; earlier messages of the stream were forwarded, upstream request aborted` } : verdict);
        if (up && !up.closed) up.close(NGHTTP2_CANCEL);
      },
    });
    return;
  }

  holdingBack = true;
  let bodyProblem: Uninspectable | undefined;
  let body: Readable | Buffer | undefined;
  const first = await inspectBody({
    cfg,
    meter: ctx.meter,
    place: 'body',
    headers: { contentEncoding: header(headers, 'content-encoding'), contentType: header(headers, 'content-type') },
    source: stream,
    judge: (found, problem) => {
      bodyProblem = problem;
      return decide(policy, [...metaFindings, ...found], uninspectable ?? problem, unreadable);
    },
    onUpdate: (now) => {
      if (stopped) return;
      ctx.findings = now.findings;
      ctx.uninspectable = uninspectable ?? bodyProblem;
      if (now.outcome !== 'block') {
        if (now.decision !== 'allowed') ctx.settle(now.decision, now.reason);
        return;
      }
      stopped = true;
      if (body instanceof InspectionStage) ctx.requestBytes = body.bytesReceived;
      if (upstream && !upstream.closed) upstream.close(NGHTTP2_CANCEL);
      const reason = `${now.reason}${now.reason.includes('upstream request aborted') ? '' : '; found after forwarding began, upstream request aborted'}`;
      refuseVerdict({ ...now, decision: 'blocked_late', reason });
    },
  });
  holdingBack = false;
  if (first.kind === 'unreadable') {
    settleClientAbort(ctx, deps.metrics, true);
    resetStream(stream);
    return;
  }
  ctx.requestBytes = first.kind === 'complete' ? first.bytes : first.body.bytesReceived;
  if (first.verdict.outcome === 'block') {
    refuseVerdict(first.verdict);
    return;
  }
  ctx.uninspectable = uninspectable ?? bodyProblem;
  settle(first.verdict);
  if (first.kind === 'complete') {
    // The whole (possibly redacted) message is in hand: it goes with its exact length.
    outHeaders['content-length'] = String(first.body.length);
    body = first.body;
    openUpstream(first.verdict, false)?.end(first.body);
    return;
  }
  const stage = first.body;
  stage.once('close', () => {
    ctx.requestBytes = stage.bytesReceived;
  });
  body = stage;
  const up = openUpstream(first.verdict, false);
  if (up) stage.pipe(up);
  else stage.destroy();

  function settle(verdict: Verdict): void {
    ctx.findings = verdict.findings;
    ctx.uninspectable ??= uninspectable;
    ctx.settle(verdict.decision, verdict.reason);
  }
}

/** The upstream's answer on its way to the client. */
interface ResponseRelay {
  /**
   * Stop relaying and end the client's answer with `trailers` in place of
   * the upstream's. False when that cannot be done cleanly: the answer has
   * not started (the caller answers itself), has ended, or stands inside a
   * gRPC message.
   */
  endWith(trailers: http2.OutgoingHttpHeaders): boolean;
}

/** Relay the upstream's answer: status and headers, the body, then its trailers (grpc-status lives there). */
function relayResponse(ctx: RequestContext, stream: http2.ServerHttp2Stream, up: http2.ClientHttp2Stream, grpc: boolean, onHeaders: () => void): ResponseRelay {
  let trailers: http2.OutgoingHttpHeaders = {};
  let replaced = false;
  const boundary = grpc ? new GrpcBoundaryTracker() : undefined;
  up.once('trailers', (t: http2.IncomingHttpHeaders) => {
    if (!replaced) trailers = responseFields(t);
  });
  up.once('response', (h: http2.IncomingHttpHeaders, flags: number) => {
    onHeaders();
    if (stream.destroyed || stream.closed || stream.headersSent) return;
    const out = { ...responseFields(h), ':status': Number(h[':status'] ?? 502) };
    if ((flags & http2.constants.NGHTTP2_FLAG_END_STREAM) !== 0) {
      // Trailers-only (a gRPC status without messages): the headers are the whole answer.
      stream.respond(out, { endStream: true });
      return;
    }
    stream.respond(out, { waitForTrailers: true });
    // Without upstream trailers Node ends the stream with an empty DATA frame instead.
    stream.once('wantTrailers', () => stream.sendTrailers(trailers));
    up.on('aborted', () => {
      // Cancelled by the proxy after it ended the answer with its own status: not an upstream failure.
      if (replaced) return;
      ctx.settle('error', 'upstream response aborted');
      resetStream(stream);
    });
    // Fed in the same 'data' emission that writes to the client, so it always matches what was relayed.
    if (boundary) up.on('data', (chunk: Buffer) => boundary.feed(chunk));
    up.pipe(stream);
  });
  return {
    endWith(own) {
      if (!stream.headersSent || stream.closed || stream.destroyed || stream.writableEnded) return false;
      if (boundary && !boundary.atBoundary) return false;
      replaced = true;
      trailers = own;
      up.unpipe(stream);
      // What was relayed is flushed first; then 'wantTrailers' sends `own`.
      stream.end();
      return true;
    },
  };
}

function forwardedHeaders(headers: http2.IncomingHttpHeaders, loopGuard: LoopGuard): OutgoingHttpHeaders {
  const out: OutgoingHttpHeaders = {};
  for (const [name, value] of Object.entries(headers)) {
    if (value === undefined || name.startsWith(':') || NOT_FORWARDED.has(name)) continue;
    if (name === 'te' && String(value).trim().toLowerCase() !== 'trailers') continue;
    out[name] = value;
  }
  const via = loopGuard.viaEntry('2.0');
  out.via = headers.via ? `${String(headers.via)}, ${via}` : via;
  return out;
}

function responseFields(headers: http2.IncomingHttpHeaders): http2.OutgoingHttpHeaders {
  const out: http2.OutgoingHttpHeaders = {};
  for (const [name, value] of Object.entries(headers)) {
    if (value === undefined || name.startsWith(':') || NOT_FORWARDED.has(name)) continue;
    out[name] = value;
  }
  return out;
}

function header(headers: http2.IncomingHttpHeaders, name: string): string | undefined {
  const v = headers[name];
  return Array.isArray(v) ? v.join(', ') : v;
}
