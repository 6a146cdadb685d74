// From findings to what happens to the request. Pure functions of the
// findings, the captured profile and what could not be inspected, so every
// mode/action combination is testable without sockets.
//
// Rules (the profile reference documents them for users):
// - Monitor mode records everything and changes nothing.
// - Protect mode applies each finding's action (the detector's own, unless
//   the profile overrides it per severity or per detector).
//   * any `block` → the request is blocked;
//   * `redact` → the matched bytes are masked, provided that is safe: the
//     bytes are in the raw message (not only in a decoded view), not
//     compressed, and not yet forwarded. Otherwise the request is blocked and
//     the reason says why;
//   * `monitor` → forwarded and recorded.
// - A blocking profile (Protect with any block action) also blocks what it
//   cannot inspect: a DLP control that lets unreadable data through is a
//   bypass, not a control. So does egress.uninspectable: Deny, except for
//   destinations an allow rule marks allowUninspectable.
import type { Action, Finding } from '../scan/types';
import type { RuntimeConfig } from '../profile';
import type { Decision } from '../outcome/decision';
import type { Destination } from '../http/destination';

/** Where in the exchange a finding was made. */
export type FindingPlace = 'url' | 'header' | 'body' | 'response';

export interface LocatedFinding {
  finding: Finding;
  place: FindingPlace;
  /** Header name for `header` findings. */
  header?: string;
  /** Why masking these bytes in place is not possible; undefined when it is. */
  unredactable?: string;
  /** Found after bytes of the same message were already forwarded. */
  late?: boolean;
}

export interface Uninspectable {
  /** Stable code, e.g. KDLP_DECODE_BOMB, KDLP_BODY_TOO_LARGE. */
  code: string;
  /** Human reason without payload bytes. */
  reason: string;
}

export type Outcome = 'forward' | 'redact' | 'block';

export interface AppliedFinding extends LocatedFinding {
  /** What was done about this finding (monitor in Monitor mode). */
  applied: Action;
}

export interface Verdict {
  outcome: Outcome;
  decision: Decision;
  reason: string;
  findings: AppliedFinding[];
  /** Findings whose bytes must be masked (outcome `redact`). */
  toRedact: LocatedFinding[];
}

export interface PolicyView {
  mode: 'Monitor' | 'Protect';
  actionFor(finding: Finding): Action;
  /** Protect mode with at least one detector whose action is block. */
  blocking: boolean;
}

const policyCache = new WeakMap<RuntimeConfig, PolicyView>();

/** The enforcement-relevant view of a profile, computed once per loaded config. */
export function policyOf(cfg: RuntimeConfig): PolicyView {
  let view = policyCache.get(cfg);
  if (view === undefined) {
    // The scanner already resolved each finding's action: the detector's own,
    // replaced by spec.actions[severity], replaced by a per-detector override
    // (proxy/profile/action-overrides.ts). Its detector list carries the same
    // resolution, so both answer "what would Protect do" consistently.
    const actionFor = (f: { action: Action }): Action => f.action;
    const blocking = cfg.spec.mode === 'Protect' && cfg.scanner.detectors.some((d) => actionFor(d) === 'block');
    view = { mode: cfg.spec.mode, actionFor, blocking };
    policyCache.set(cfg, view);
  }
  return view;
}

/** Whether content the proxy cannot inspect may go to this destination, and why not. */
export interface UninspectableRule {
  block: boolean;
  because: string;
}

/**
 * Protect mode refuses uninspectable content when the profile blocks
 * anything (a bypass otherwise) or when egress.uninspectable is Deny, except
 * for destinations an allow rule exempts with allowUninspectable.
 */
export function uninspectableRule(cfg: RuntimeConfig, policy: PolicyView, dest: Destination): UninspectableRule {
  if (policy.mode !== 'Protect') return { block: false, because: '' };
  const denyByEgress = cfg.spec.egress.uninspectable === 'Deny';
  if (denyByEgress && cfg.egress.decide(dest, { inspectable: false }).allowed) {
    return { block: false, because: '' };
  }
  if (policy.blocking) return { block: true, because: 'blocked by a blocking profile' };
  if (denyByEgress) return { block: true, because: 'denied by egress.uninspectable' };
  return { block: false, because: '' };
}

export function decide(
  policy: PolicyView,
  findings: readonly LocatedFinding[],
  uninspectable?: Uninspectable,
  /** Consulted only when something is uninspectable (it may cost an egress lookup). */
  rule?: UninspectableRule | (() => UninspectableRule),
): Verdict {
  const late = findings.some((f) => f.late);
  if (policy.mode === 'Monitor') {
    return {
      outcome: 'forward',
      decision: uninspectable ? 'uninspected' : 'allowed',
      reason: monitorReason(findings, uninspectable),
      findings: findings.map((f) => applied(f, 'monitor')),
      toRedact: [],
    };
  }

  const configured = findings.map((f) => policy.actionFor(f.finding));
  const blockers = findings.filter((_, i) => configured[i] === 'block');
  const redactions = findings.filter((_, i) => configured[i] === 'redact');
  const blockedAs = (f: LocatedFinding, i: number): AppliedFinding => applied(f, configured[i] === 'monitor' ? 'monitor' : 'block');

  if (blockers.length > 0) {
    const lateBlock = blockers.some((f) => f.late);
    return {
      outcome: 'block',
      decision: lateBlock ? 'blocked_late' : 'blocked',
      reason: `${describeFindings(blockers)} (action block)${lateBlock ? '; found after forwarding began, upstream request aborted' : ''}`,
      findings: findings.map(blockedAs),
      toRedact: [],
    };
  }
  const unreadable = uninspectable ? (typeof rule === 'function' ? rule() : (rule ?? { block: policy.blocking, because: 'blocked by a blocking profile' })) : undefined;
  if (uninspectable && unreadable?.block) {
    return {
      outcome: 'block',
      decision: late ? 'blocked_late' : 'blocked',
      reason: `uninspectable content ${unreadable.because}: ${uninspectable.reason}`,
      findings: findings.map(blockedAs),
      toRedact: [],
    };
  }
  const unsafe = redactions.filter((f) => f.unredactable !== undefined || f.late);
  if (unsafe.length > 0) {
    const why = unsafe[0].late ? 'found after forwarding began' : unsafe[0].unredactable;
    return {
      outcome: 'block',
      decision: unsafe.some((f) => f.late) ? 'blocked_late' : 'blocked',
      reason: `${describeFindings(unsafe)} (action redact) cannot be redacted safely (${why}); blocked instead`,
      findings: findings.map(blockedAs),
      toRedact: [],
    };
  }
  if (redactions.length > 0) {
    return {
      outcome: 'redact',
      decision: 'redacted',
      reason: `${describeFindings(redactions)} redacted`,
      findings: findings.map((f, i) => applied(f, configured[i]!)),
      toRedact: redactions,
    };
  }
  return {
    outcome: 'forward',
    decision: uninspectable ? 'uninspected' : 'allowed',
    reason: uninspectable ? `forwarded uninspected: ${uninspectable.reason}` : findings.length > 0 ? `${describeFindings(findings)} (action monitor)` : '',
    findings: findings.map((f) => applied(f, 'monitor')),
    toRedact: [],
  };
}

// A streamed body is judged again at every chunk that brings a finding, over
// every finding kept so far (up to 4,096). Copying each one into a new
// AppliedFinding every time made that quadratic in garbage: the copies live
// until the next verdict, so they were promoted and grew the old space (a
// 1 GiB upload with 768 findings peaked ~40 MiB higher). Verdicts only read
// their findings, so one copy per finding and action is shared by all of them.
const APPLIED: Record<Action, WeakMap<LocatedFinding, AppliedFinding>> = {
  monitor: new WeakMap(),
  block: new WeakMap(),
  redact: new WeakMap(),
};

function applied(f: LocatedFinding, action: Action): AppliedFinding {
  const copies = APPLIED[action];
  let copy = copies.get(f);
  if (copy === undefined) {
    copy = Object.freeze({ ...f, applied: action });
    copies.set(f, copy);
  }
  return copy;
}

/** Detector ids, in first-seen order, without duplicates. */
export function detectorIds(findings: readonly LocatedFinding[]): string[] {
  return [...new Set(findings.map((f) => f.finding.detector))];
}

function describeFindings(findings: readonly LocatedFinding[]): string {
  const places = [...new Set(findings.map((f) => (f.place === 'header' && f.header ? `header ${f.header}` : f.place)))];
  return `${detectorIds(findings).join(', ')} in ${places.join(', ')}`;
}

function monitorReason(findings: readonly LocatedFinding[], uninspectable?: Uninspectable): string {
  const parts: string[] = [];
  if (findings.length > 0) parts.push(`${describeFindings(findings)} recorded (Monitor mode)`);
  if (uninspectable) parts.push(`forwarded uninspected: ${uninspectable.reason}`);
  return parts.join('; ');
}
