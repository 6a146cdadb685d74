// The audit trail: one JSON line per blocked, redacted, flagged, denied or
// uninspected request. It is the record security teams read, so it carries
// who (pod/namespace/tenant), where (destination, sanitized path), what
// (detectors, masked evidence) and why (reason) — and never a raw value:
// evidence is the engine's masked form and paths have query values removed.
import pino from 'pino';
import { RepeatSuppressor, type SuppressionSummary } from './repeat-suppressor';
import type { Decision } from '../outcome/decision';

export interface AuditIdentity {
  pod: string;
  namespace: string;
  tenant: string;
}

export interface AuditEvidence {
  detector: string;
  /** Masked by the scan engine, e.g. `4111********1111`. */
  masked: string;
  /** Where it was found: `url`, `header:<name>`, `body`, `body:<view>`, `response`. */
  location: string;
  /** Action applied to this finding. */
  action: string;
}

/** What the proxy did, as a verb for people reading the log. */
export type AuditAction = 'block' | 'redact' | 'monitor' | 'deny' | 'tunnel' | 'error';

export interface AuditEvent {
  requestId: string;
  decision: Decision;
  action: AuditAction;
  method: string;
  /** `host:port`, with any finding inside the host masked. */
  destination: string;
  /** Sanitized path (query values removed, findings masked). */
  path?: string;
  detectors: string[];
  evidence: AuditEvidence[];
  /** Request body bytes received from the client. */
  bytes: number;
  reason: string;
  profile: string;
  profileVersion: string;
  mode: string;
}

export type AuditSink = 'stdout' | { file: string } | pino.DestinationStream;

export interface AuditLogOptions {
  sink: AuditSink;
  identity: AuditIdentity;
  /** Window for folding identical events (same detectors, destination, action). Default 10 s. */
  repeatWindowMs?: number;
  /** Distinct event keys remembered at once. Default 10,000. */
  maxTrackedKeys?: number;
  /** Told how many events each summary folded (for the suppressed-events metric). */
  onSuppressed?: (count: number) => void;
}

/** Evidence entries kept per event: a body with thousands of hits must stay one readable line. */
const MAX_EVIDENCE = 20;

export class AuditLog {
  private readonly logger: pino.Logger;
  private readonly destination: pino.DestinationStream;
  private readonly suppressor: RepeatSuppressor<AuditEvent>;
  private readonly timer: NodeJS.Timeout;

  constructor(private readonly opts: AuditLogOptions) {
    this.destination = openSink(opts.sink);
    this.logger = pino(
      {
        base: { pod: opts.identity.pod, namespace: opts.identity.namespace, tenant: opts.identity.tenant },
        timestamp: pino.stdTimeFunctions.isoTime,
        messageKey: 'msg',
        formatters: { level: (label) => ({ level: label }) },
      },
      this.destination,
    );
    const windowMs = opts.repeatWindowMs ?? 10_000;
    this.suppressor = new RepeatSuppressor<AuditEvent>({
      windowMs,
      maxKeys: opts.maxTrackedKeys ?? 10_000,
      onSummary: (summary) => this.writeSummary(summary),
    });
    this.timer = setInterval(() => this.suppressor.flush(), Math.max(100, Math.floor(windowMs / 2)));
    this.timer.unref();
  }

  record(event: AuditEvent): void {
    const key = `${[...event.detectors].sort().join(',')}|${event.destination}|${event.action}|${event.decision}`;
    if (!this.suppressor.admit(key, event)) return;
    const evidence = event.evidence.length > MAX_EVIDENCE ? event.evidence.slice(0, MAX_EVIDENCE) : event.evidence;
    this.logger.info(
      {
        event: 'dlp',
        ...event,
        evidence,
        ...(event.evidence.length > MAX_EVIDENCE ? { evidenceOmitted: event.evidence.length - MAX_EVIDENCE } : {}),
      },
      describe(event),
    );
  }

  /** Emit pending summaries and flush the sink (shutdown). */
  close(): void {
    clearInterval(this.timer);
    this.suppressor.flush(true);
    const flushSync = (this.destination as { flushSync?: () => void }).flushSync;
    if (typeof flushSync === 'function') {
      try {
        flushSync.call(this.destination);
      } catch {
        // A sync destination has nothing buffered; sonic-boom throws if not ready.
      }
    }
  }

  private writeSummary(summary: SuppressionSummary<AuditEvent>): void {
    const { sample } = summary;
    this.opts.onSuppressed?.(summary.suppressed);
    this.logger.info(
      {
        event: 'dlp_suppressed',
        decision: sample.decision,
        action: sample.action,
        destination: sample.destination,
        detectors: sample.detectors,
        suppressed: summary.suppressed,
        windowStart: new Date(summary.windowStart).toISOString(),
        windowEnd: new Date(summary.windowEnd).toISOString(),
      },
      `${summary.suppressed} identical audit events suppressed`,
    );
  }
}

function describe(event: AuditEvent): string {
  const what = event.detectors.length > 0 ? event.detectors.join(',') : event.reason;
  return `${event.decision} ${event.method} ${event.destination}: ${what}`;
}

function openSink(sink: AuditSink): pino.DestinationStream {
  if (sink === 'stdout') return pino.destination({ dest: 1, sync: true });
  if (typeof sink === 'object' && 'file' in sink && typeof sink.file === 'string') {
    return pino.destination({ dest: sink.file, sync: true, mkdir: true });
  }
  return sink as pino.DestinationStream;
}
