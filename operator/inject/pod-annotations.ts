// The kubedlp.io annotations a pod may carry, validated from ONE table: each
// row parses its value and checks it against what the namespace's profile
// allows; every problem of every row is collected, so a denied pod names all
// of them at once instead of one per attempt.
import { parseCidr, parsePortSpec, type Cidr, type PortRange } from '../../proxy/policy/egress-syntax';
import {
  ANNOTATION_CAPTURE_MODE,
  ANNOTATION_EXCLUDE_OUTBOUND_CIDRS,
  ANNOTATION_EXCLUDE_OUTBOUND_PORTS,
  ANNOTATION_INJECT,
  CAPTURE_MODES,
  INJECT_DISABLED,
  INJECT_ENABLED,
  type CaptureMode,
} from './names';
import { cidrCovered, portCovered, type ProfileAllowances } from './profile-allowances';

/** What the annotations ask for, once valid. */
export interface PodOverrides {
  captureMode: CaptureMode;
  excludePorts: readonly PortRange[];
  excludeCidrs: readonly Cidr[];
  /** The list texts as written (normalised), passed on to init-iptables. */
  excludePortsText?: string;
  excludeCidrsText?: string;
}

export interface AnnotationProblem {
  annotation: string;
  message: string;
}

export interface OverrideContext {
  /** The operator's capture mode when the pod names none. */
  defaultCaptureMode: CaptureMode;
  allowances: ProfileAllowances;
}

interface Row {
  key: string;
  /** Reads the value into `out`; returns the problems (empty when fine). */
  apply(value: string, out: PodOverrides, ctx: OverrideContext): string[];
}

const splitList = (value: string): string[] =>
  value
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s !== '');

const bypassNote = (ctx: OverrideContext) =>
  `${ctx.allowances.source} denies uninspectable egress` +
  ' (allow it with egress.uninspectable: Allow, or an egress.allow rule with allowUninspectable: true)';

export const POD_ANNOTATION_RULES: readonly Row[] = [
  {
    key: ANNOTATION_INJECT,
    // "disabled" pods never reach the webhook (objectSelector) and are skipped by the decision too.
    apply: (v) => (v === INJECT_ENABLED || v === INJECT_DISABLED ? [] : [`must be "${INJECT_ENABLED}" or "${INJECT_DISABLED}"`]),
  },
  {
    key: ANNOTATION_CAPTURE_MODE,
    apply: (v, out, ctx) => {
      if (!(CAPTURE_MODES as readonly string[]).includes(v)) return [`must be one of ${CAPTURE_MODES.join(', ')}`];
      out.captureMode = v as CaptureMode;
      // Explicit capture reaches only clients that honour HTTP_PROXY: the rest bypasses the proxy.
      if (v === 'explicit' && ctx.defaultCaptureMode === 'transparent' && !ctx.allowances.uninspectableAllowed) {
        return [`"explicit" lets clients that ignore HTTP_PROXY bypass the proxy, and ${bypassNote(ctx)}`];
      }
      return [];
    },
  },
  {
    key: ANNOTATION_EXCLUDE_OUTBOUND_PORTS,
    apply: (v, out, ctx) => {
      const problems: string[] = [];
      const ports: PortRange[] = [];
      for (const item of splitList(v)) {
        const p = parsePortSpec(item);
        if (!p.ok) problems.push(`"${item}" ${p.error}`);
        else if (!ctx.allowances.uninspectableAllowed && !portCovered(p.value, ctx.allowances.uninspectablePorts)) {
          problems.push(`port ${item} may not bypass the proxy: ${bypassNote(ctx)}`);
        } else ports.push(p.value);
      }
      if (splitList(v).length === 0) problems.push('must list ports or ranges, e.g. "5432,9000-9100"');
      out.excludePorts = ports;
      out.excludePortsText = splitList(v).join(',');
      return problems;
    },
  },
  {
    key: ANNOTATION_EXCLUDE_OUTBOUND_CIDRS,
    apply: (v, out, ctx) => {
      const problems: string[] = [];
      const cidrs: Cidr[] = [];
      for (const item of splitList(v)) {
        const c = parseCidr(item);
        if (!c.ok) problems.push(`"${item}" ${c.error}`);
        else if (!ctx.allowances.uninspectableAllowed && !cidrCovered(c.value, ctx.allowances.uninspectableCidrs)) {
          problems.push(`${item} may not bypass the proxy: ${bypassNote(ctx)}`);
        } else cidrs.push(c.value);
      }
      if (splitList(v).length === 0) problems.push('must list networks, e.g. "10.0.0.0/8,fd00::/8"');
      out.excludeCidrs = cidrs;
      out.excludeCidrsText = splitList(v).join(',');
      return problems;
    },
  },
];

export type OverridesResult = { ok: true; overrides: PodOverrides } | { ok: false; problems: AnnotationProblem[] };

/** Parses and checks every kubedlp.io pod annotation; all problems at once. */
export function podOverrides(annotations: Readonly<Record<string, string>>, ctx: OverrideContext): OverridesResult {
  const out: PodOverrides = { captureMode: ctx.defaultCaptureMode, excludePorts: [], excludeCidrs: [] };
  const problems: AnnotationProblem[] = [];
  for (const row of POD_ANNOTATION_RULES) {
    const value = annotations[row.key];
    if (value === undefined) continue;
    for (const message of row.apply(value, out, ctx)) problems.push({ annotation: row.key, message });
  }
  // Exclusions are capture rules: without iptables there is nothing to exclude them from.
  if (out.captureMode === 'explicit') {
    for (const key of [ANNOTATION_EXCLUDE_OUTBOUND_PORTS, ANNOTATION_EXCLUDE_OUTBOUND_CIDRS]) {
      if (annotations[key] !== undefined) problems.push({ annotation: key, message: 'takes effect only with capture mode "transparent"' });
    }
  }
  return problems.length > 0 ? { ok: false, problems } : { ok: true, overrides: out };
}

export function describeProblems(problems: readonly AnnotationProblem[]): string {
  return problems.map((p) => `${p.annotation}: ${p.message}`).join('; ');
}
