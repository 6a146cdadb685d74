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
    // "disabled" pods are skipped by the decision, then admitted only where the namespace allows (pod-rules.ts).
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
    apply: (v, out, ctx) =>
      exclusionList(v, out, ctx, {
        example: '"5432,9000-9100"',
        parse: parsePortSpec,
        covered: (p, a) => portCovered(p, a.uninspectablePorts),
        store: (items, text) => {
          out.excludePorts = items;
          out.excludePortsText = text;
        },
        what: 'port(s)',
      }),
  },
  {
    key: ANNOTATION_EXCLUDE_OUTBOUND_CIDRS,
    apply: (v, out, ctx) =>
      exclusionList(v, out, ctx, {
        example: '"10.0.0.0/8,fd00::/8"',
        parse: parseCidr,
        covered: (c, a) => cidrCovered(c, a.uninspectableCidrs),
        store: (items, text) => {
          out.excludeCidrs = items;
          out.excludeCidrsText = text;
        },
        what: 'network(s)',
      }),
  },
];

interface ExclusionKind<T> {
  example: string;
  parse(item: string): { ok: true; value: T } | { ok: false; error: string };
  covered(item: T, allowances: ProfileAllowances): boolean;
  store(items: T[], text: string): void;
  what: string;
}

/** A comma-separated exclusion list: every bad item, then every item the profile does not let bypass the proxy. */
function exclusionList<T>(value: string, _out: PodOverrides, ctx: OverrideContext, kind: ExclusionKind<T>): string[] {
  const items = splitList(value);
  if (items.length === 0) return [`must list ${kind.what}, e.g. ${kind.example}`];
  const problems: string[] = [];
  const parsed: T[] = [];
  const refused: string[] = [];
  for (const item of items) {
    const p = kind.parse(item);
    if (!p.ok) problems.push(`"${item}" ${p.error}`);
    else if (!ctx.allowances.uninspectableAllowed && !kind.covered(p.value, ctx.allowances)) refused.push(item);
    else parsed.push(p.value);
  }
  if (refused.length > 0) problems.push(`${kind.what} ${refused.join(', ')} may not bypass the proxy: ${bypassNote(ctx)}`);
  kind.store(parsed, items.join(','));
  return problems;
}

export type OverridesResult = { ok: true; overrides: PodOverrides } | { ok: false; problems: AnnotationProblem[] };

/** Parses and checks every kubedlp.io pod annotation; all problems at once. */
export function podOverrides(annotations: Readonly<Record<string, string>>, ctx: OverrideContext): OverridesResult {
  const out: PodOverrides = { captureMode: ctx.defaultCaptureMode, excludePorts: [], excludeCidrs: [] };
  const problems: AnnotationProblem[] = [];
  const modeValue = annotations[ANNOTATION_CAPTURE_MODE];
  for (const row of POD_ANNOTATION_RULES) {
    const value = annotations[row.key];
    if (value === undefined) continue;
    for (const message of row.apply(value, out, ctx)) problems.push({ annotation: row.key, message });
  }
  // Exclusions are capture rules: without iptables there is nothing to exclude them from.
  // (Unless the mode itself is invalid: then that is the problem to fix.)
  const modeValid = modeValue === undefined || (CAPTURE_MODES as readonly string[]).includes(modeValue);
  if (out.captureMode === 'explicit' && modeValid) {
    for (const key of [ANNOTATION_EXCLUDE_OUTBOUND_PORTS, ANNOTATION_EXCLUDE_OUTBOUND_CIDRS]) {
      if (annotations[key] !== undefined) problems.push({ annotation: key, message: 'takes effect only with capture mode "transparent"' });
    }
  }
  return problems.length > 0 ? { ok: false, problems } : { ok: true, overrides: out };
}

export function describeProblems(problems: readonly AnnotationProblem[]): string {
  return problems.map((p) => `${p.annotation}: ${p.message}`).join('; ');
}
