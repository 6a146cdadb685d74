// The single place where a finished request becomes metrics and an audit
// line, so every path (blocked early, blocked late, redacted, upstream
// error, tunnel) is reported the same way, exactly once.
import type { AuditAction, AuditLog } from '../audit/audit-log';
import { sanitizePath } from '../audit/sanitize-path';
import type { ProxyMetrics } from '../metrics/proxy-metrics';
import { detectorIds } from '../inspect-pipeline/verdict';
import type { Decision } from '../outcome/decision';
import type { RequestContext } from './request-context';
import type { ObservedEgress } from '../observe/observed-egress';

export class OutcomeReporter {
  private readonly reported = new WeakSet<RequestContext>();

  constructor(
    private readonly metrics: ProxyMetrics,
    private readonly audit: AuditLog,
    /** Value-free egress summary for profile discovery (GET /observed). */
    private readonly observed?: ObservedEgress,
  ) {}

  finish(ctx: RequestContext): void {
    if (this.reported.has(ctx) || ctx.decision === undefined) return;
    this.reported.add(ctx);
    const decision = ctx.decision;
    const cfg = ctx.config;
    this.metrics.request(cfg.profileName, decision);
    for (const f of ctx.findings) {
      this.metrics.finding({ detector: f.finding.detector, category: f.finding.category, severity: f.finding.severity, action: f.applied });
    }
    if (decision === 'blocked' || decision === 'blocked_late') this.metrics.blocked(ctx.requestBytes);
    this.observed?.record({
      destination: ctx.destination,
      shownDestination: ctx.auditDestination,
      method: ctx.method,
      decision,
      requestBytes: ctx.requestBytes,
      findings: ctx.findings.map((f) => ({ detector: f.finding.detector, category: f.finding.category, severity: f.finding.severity, action: f.applied })),
    });
    if (ctx.kind === 'http' && (ctx.meter.bytes > 0 || ctx.meter.seconds > 0)) this.metrics.scanned(ctx.meter.bytes, ctx.meter.seconds);

    if (!this.worthAuditing(ctx, decision)) return;
    this.audit.record({
      requestId: ctx.id,
      decision,
      action: auditAction(ctx, decision),
      method: ctx.method,
      destination: ctx.auditDestination,
      path: ctx.auditPath === undefined ? undefined : sanitizePath(ctx.auditPath),
      detectors: detectorIds(ctx.findings),
      evidence: ctx.findings.map((f) => ({
        detector: f.finding.detector,
        masked: f.finding.masked,
        location: f.place === 'header' ? `header:${f.header ?? ''}` : f.finding.view ? `${f.place}:${f.finding.view}` : f.place,
        action: f.applied,
      })),
      bytes: ctx.requestBytes,
      reason: [ctx.reason, ctx.note].filter((s) => s !== undefined && s !== '').join('; '),
      profile: cfg.profileName,
      profileVersion: cfg.version,
      mode: cfg.spec.mode,
    });
  }

  private worthAuditing(ctx: RequestContext, decision: Decision): boolean {
    if (ctx.findings.length > 0 || ctx.note !== undefined || ctx.auditFailure) return true;
    // Upstream failures are operational, not DLP events: metrics cover them.
    return decision !== 'allowed' && decision !== 'error';
  }
}

function auditAction(ctx: RequestContext, decision: Decision): AuditAction {
  switch (decision) {
    case 'blocked':
    case 'blocked_late':
      return 'block';
    case 'redacted':
      return 'redact';
    case 'denied_destination':
    case 'denied_cross_tenant':
      return 'deny';
    case 'uninspected':
      return ctx.kind === 'connect' ? 'tunnel' : 'monitor';
    case 'error':
      return 'error';
    case 'allowed':
      return 'monitor';
  }
}
