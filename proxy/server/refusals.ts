// What the proxy answers when it refuses an exchange, in one table: the
// status and the `error` word of the JSON body for every decision that
// refuses. Bodies name detectors and reasons, never matched values.
import type { ServerResponse } from 'node:http';
import { sendJson } from '../http/responses';
import { detectorIds, type Verdict } from '../inspect-pipeline/verdict';
import type { Decision } from '../outcome/decision';
import type { RequestContext } from '../exchange/request-context';

export const REFUSAL_STATUS: Readonly<Partial<Record<Decision, { status: number; error: string }>>> = {
  // A finding, or content that cannot be inspected, in a blocking profile.
  blocked: { status: 403, error: 'blocked' },
  // Found after forwarding began; answered when the response has not started.
  blocked_late: { status: 403, error: 'blocked' },
  denied_destination: { status: 403, error: 'denied_destination' },
  denied_cross_tenant: { status: 403, error: 'denied_cross_tenant' },
  error: { status: 502, error: 'upstream_failed' },
};

/** The status and `error` word for a refusing decision (a decision missing from the table refuses as blocked). */
export function refusalOf(decision: Decision): { status: number; error: string } {
  return REFUSAL_STATUS[decision] ?? { status: 403, error: 'blocked' };
}

/**
 * Settle the exchange with a refusing verdict and answer it. Returns false
 * when the response had already started (the caller cuts the connection).
 */
export function refuseBody(res: ServerResponse, ctx: RequestContext, verdict: Verdict, bodyLeftUnread: boolean): boolean {
  ctx.settle(verdict.decision, verdict.reason);
  const { status, body } = bodyRefusal(ctx, verdict);
  return sendJson(res, status, body, { requestId: ctx.id, close: bodyLeftUnread });
}

/** The status and JSON body refusing a request for its content (HTTP/1.1 and HTTP/2 answer alike). */
export function bodyRefusal(ctx: RequestContext, verdict: Verdict): { status: number; body: object } {
  const { status, error } = refusalOf(verdict.decision);
  return { status, body: { error, requestId: ctx.id, detectors: refusingDetectors(verdict), reason: verdict.reason } };
}

/** Detectors that caused the refusal (monitor-only findings did not). */
export function refusingDetectors(verdict: Verdict): string[] {
  return detectorIds(verdict.findings.filter((f) => f.applied !== 'monitor'));
}

/** The status and JSON body refusing a request for its destination. */
export function destinationRefusal(ctx: RequestContext, decision: 'denied_destination' | 'denied_cross_tenant', reason: string): { status: number; body: object } {
  const { status, error } = refusalOf(decision);
  return { status, body: { error, requestId: ctx.id, destination: ctx.auditDestination, reason } };
}

/**
 * Settle and answer a refusal by destination (egress rule or tenancy): the
 * body names the destination as audited (masked) and the reason, no detectors.
 */
export function refuseDestination(
  res: ServerResponse,
  ctx: RequestContext,
  decision: 'denied_destination' | 'denied_cross_tenant',
  reason: string,
  bodyLeftUnread: boolean,
): void {
  ctx.settle(decision, reason);
  const { status, body } = destinationRefusal(ctx, decision, reason);
  sendJson(res, status, body, { requestId: ctx.id, close: bodyLeftUnread });
}
