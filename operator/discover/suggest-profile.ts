// From what the sidecars observed to a profile that enforces it: allow
// exactly the destinations seen (grouped into host globs where sensible),
// deny everything else, and give every detector that fired an action fit for
// Protect. Pure: the same observation always gives the same suggestion, and
// each rule carries the evidence it was derived from, as counts only.
import type { DetectorOverride, EgressRule, Mode, SecurityProfileSpec } from '../../proxy/profile';
import type { MergedDestination, MergedObservation } from '../../proxy/observe/merge-observed';
import { DEFAULT_DETECTORS } from '../../proxy/scan/detectors';
import { groupDestinations, type EgressGroup, type GroupingOptions } from './host-groups';

type Action = NonNullable<DetectorOverride['action']>;

export interface SuggestOptions extends GroupingOptions {
  name: string;
  namespace: string;
  /** Default Protect: the point of a suggestion is to enforce what was seen. */
  mode?: Mode;
}

export interface Evidenced<T> {
  value: T;
  evidence: string;
}

export interface Suggestion {
  name: string;
  namespace: string;
  mode: Mode;
  allow: Evidenced<EgressRule>[];
  overrides: Evidenced<DetectorOverride>[];
  /** Detectors that must be enabled by id (opt-in ones that fired). */
  enableOptIn: string[];
  /** What was seen but deliberately left out, and why. */
  excluded: string[];
  observed: { sources: number; since: string; until: string; requests: number; evicted: number };
}

/** What Protect should do with a detector that fired, from its category and severity. */
export function proposedAction(category: string, severity: string): Action | undefined {
  if (severity === 'critical') return 'block';
  // A masked email or phone number still lets the request do its job; a
  // masked card or credential does not, and leaking it is the worse failure.
  if (category === 'pii') return 'redact';
  if (category === 'pci' || category === 'secret') return 'block';
  return undefined;
}

export function suggestProfile(obs: MergedObservation, opts: SuggestOptions): Suggestion {
  const excluded: string[] = [];
  const allowed: MergedDestination[] = [];
  for (const d of obs.destinations) {
    if (d.hostMasked) {
      excluded.push(`${d.host}:${d.port}: a detector matched inside the host name itself (${d.requests} requests); not allowed`);
      continue;
    }
    // Observed under a Protect profile that already refused it: a suggestion
    // must not quietly turn an existing deny into an allow.
    const refused = (d.decisions.denied_destination ?? 0) + (d.decisions.denied_cross_tenant ?? 0);
    if (refused === d.requests) {
      excluded.push(`${d.host}:${d.port}: all ${d.requests} requests were refused by the profile in force; not allowed`);
      continue;
    }
    allowed.push(d);
  }
  if (obs.evicted > 0) {
    excluded.push(`${obs.evicted} destinations were evicted from sidecar summaries (limit reached): observe longer with a larger limit or add them by hand`);
  }
  const allow = groupDestinations(allowed, opts).map((g) => ({ value: ruleOf(g), evidence: egressEvidence(g) }));
  const { overrides, enableOptIn } = detectorActions(obs, excluded);
  return {
    name: opts.name,
    namespace: opts.namespace,
    mode: opts.mode ?? 'Protect',
    allow,
    overrides,
    enableOptIn,
    excluded,
    observed: {
      sources: obs.sources.length,
      since: obs.since,
      until: obs.until,
      requests: obs.destinations.reduce((n, d) => n + d.requests, 0),
      evicted: obs.evicted,
    },
  };
}

/** The spec of a suggestion, as a SecurityProfile carries it. */
export function suggestionSpec(s: Suggestion): Partial<SecurityProfileSpec> {
  const detectors: Record<string, unknown> = { overrides: s.overrides.map((o) => o.value) };
  // Naming categories keeps every non-opt-in detector on; the opt-in ones that fired must be named.
  if (s.enableOptIn.length > 0) detectors.enable = ['pci', 'pii', 'secret', 'custom', ...s.enableOptIn];
  return {
    mode: s.mode,
    detectors: detectors as SecurityProfileSpec['detectors'],
    egress: { default: 'Deny', allow: s.allow.map((r) => r.value), deny: [] },
  };
}

function ruleOf(g: EgressGroup): EgressRule {
  const rule: EgressRule = g.kind === 'host' ? { host: g.value } : { cidr: g.value };
  rule.ports = g.ports;
  if (g.uninspectable) rule.allowUninspectable = true;
  return rule;
}

function egressEvidence(g: EgressGroup): string {
  const requests = sum(g.members.map((m) => m.requests));
  const pods = Math.max(...g.members.map((m) => m.pods));
  const methods = new Map<string, number>();
  for (const m of g.members) for (const [k, v] of Object.entries(m.methods)) methods.set(k, (methods.get(k) ?? 0) + v);
  const first = g.members.map((m) => m.firstSeen).sort()[0];
  const last = g.members.map((m) => m.lastSeen).sort().pop();
  const parts = [
    `${requests} request${requests === 1 ? '' : 's'} (${[...methods].sort().map(([k, v]) => `${k} ${v}`).join(', ')}) from ${pods} pod${pods === 1 ? '' : 's'}`,
    `${formatBytes(sum(g.members.map((m) => m.requestBytes)))} sent`,
    `${first} to ${last}`,
  ];
  if (g.members.length > 1) {
    const each = g.members.map((m) => `${m.host}:${m.port} ${m.requests} (${Object.entries(m.methods).sort().map(([k, v]) => `${k} ${v}`).join(', ')})`);
    parts.push(`by destination: ${each.join(', ')}`);
  }
  if (g.uninspectable) parts.push('includes tunnels the proxy could not inspect');
  return `seen: ${parts.join('; ')}`;
}

function detectorActions(obs: MergedObservation, excluded: string[]): { overrides: Evidenced<DetectorOverride>[]; enableOptIn: string[] } {
  const library = new Map(DEFAULT_DETECTORS.map((d) => [d.id, d]));
  const fired = new Map<string, { category: string; severity: string; count: number; destinations: number }>();
  for (const d of obs.destinations) {
    for (const det of d.detectors) {
      const have = fired.get(det.detector) ?? { category: det.category, severity: det.severity, count: 0, destinations: 0 };
      have.count += det.count;
      have.destinations++;
      fired.set(det.detector, have);
    }
  }
  const overrides: Evidenced<DetectorOverride>[] = [];
  const enableOptIn: string[] = [];
  for (const [id, f] of [...fired].sort(([a], [b]) => a.localeCompare(b))) {
    const lib = library.get(id);
    const seen = `fired ${f.count} time${f.count === 1 ? '' : 's'} towards ${f.destinations} destination${f.destinations === 1 ? '' : 's'}; ${f.category}, ${f.severity}`;
    if (lib === undefined) {
      excluded.push(`${id}: ${seen}; not a library detector, so keep its definition and action from the current profile`);
      continue;
    }
    if (lib.optIn) enableOptIn.push(id);
    const action = proposedAction(f.category, f.severity);
    if (action === undefined) {
      excluded.push(`${id}: ${seen}; its own action (${lib.action}) is kept`);
      continue;
    }
    overrides.push({ value: { id, action }, evidence: `${seen} -> ${action}${action === lib.action ? ' (its default, made explicit)' : ` (default ${lib.action})`}` });
  }
  return { overrides, enableOptIn };
}

function sum(xs: number[]): number {
  return xs.reduce((a, b) => a + b, 0);
}

function formatBytes(n: number): string {
  if (n < 1024) return `${n} B`;
  if (n < 1024 * 1024) return `${(n / 1024).toFixed(1)} KiB`;
  return `${(n / 1024 / 1024).toFixed(1)} MiB`;
}
