// Everything known about one request or tunnel as it moves through the
// pipeline. The destination and the profile captured at arrival are inputs
// to every decision (egress, inspection, tenancy later), and the outcome
// fields are what metrics and the audit log report at the end.
import { randomBytes } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import type { RuntimeConfig } from '../profile';
import type { Destination } from '../http/destination';
import { ScanMeter } from '../inspect-pipeline/scan-support';
import type { AppliedFinding, Uninspectable } from '../inspect-pipeline/verdict';
import type { BadRequestReason, Decision } from '../outcome/decision';

/** Who this proxy speaks for: the workload it is a sidecar of. */
export interface ProxyIdentity {
  pod: string;
  namespace: string;
  tenant: string;
}

export type ExchangeKind = 'http' | 'connect';

export class RequestContext {
  readonly startedAt = performance.now();
  readonly meter = new ScanMeter();
  destination?: Destination;
  /** host:port with findings masked, for the audit log. */
  auditDestination = '';
  /** Path with findings masked, for the audit log (query values removed when written). */
  auditPath?: string;
  /** Request body bytes received from the client. */
  requestBytes = 0;
  findings: AppliedFinding[] = [];
  decision?: Decision;
  reason = '';
  uninspectable?: Uninspectable;
  /** Something worth auditing even when allowed (e.g. an egress deny not enforced in Monitor mode). */
  note?: string;
  /** An upstream failure that names something to act on (a host that needs tls.bypass): audited, unlike other failures. */
  auditFailure = false;
  /** Refused before policy: counted in kubedlp_bad_requests_total instead of as a decision. */
  refusedAs?: BadRequestReason;

  constructor(
    readonly id: string,
    /** The profile captured at arrival; reloads never change it for this request. */
    readonly config: RuntimeConfig,
    readonly kind: ExchangeKind,
    readonly method: string,
  ) {}

  /** Record an outcome; a later, stronger outcome (e.g. blocked_late after allowed) wins. */
  settle(decision: Decision, reason: string): void {
    if (this.decision !== undefined && rank(this.decision) > rank(decision)) return;
    this.decision = decision;
    this.reason = reason;
  }
}

// Which outcome describes a request best when several happened
// (a redacted request whose upstream then failed is still "redacted" for
// the security record; a late block overrides everything).
const RANK: Readonly<Record<Decision, number>> = {
  allowed: 0,
  uninspected: 1,
  error: 2,
  redacted: 3,
  denied_destination: 4,
  denied_cross_tenant: 4,
  blocked: 5,
  blocked_late: 6,
};

function rank(decision: Decision): number {
  return RANK[decision];
}

/** Request ids: a per-process random prefix and a counter; unique, cheap, and not guessable across restarts. */
export function requestIdGenerator(): () => string {
  const prefix = randomBytes(4).toString('hex');
  let counter = 0;
  return () => `${prefix}-${(++counter).toString(36)}`;
}
