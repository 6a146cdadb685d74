// Builds the compliance report's data from Prometheus: per namespace, what
// was enforced (blocked, redacted) by detector and category, what was denied
// or could not be inspected, sidecar coverage and profile changes. Aggregates
// only: the metrics carry no values, paths or destinations by design.
import type { PrometheusApi, RangeSeries } from './prometheus-api';
import { QUERIES, selectorFor } from './report-queries';

export interface FindingRow {
  detector: string;
  category: string;
  action: string;
  count: number;
}

export interface TimeSeries {
  label: string;
  points: Array<[number, number]>;
}

export interface NamespaceReport {
  namespace: string;
  requests: number;
  decisions: Record<string, number>;
  findings: FindingRow[];
  /** category -> action -> count */
  byCategory: Record<string, Record<string, number>>;
  enforcedOverTime: TimeSeries[];
  decisionsOverTime: TimeSeries[];
  coverage: { sidecarsReporting: number; podsMissingSidecarMax: number | null; podsMissingSidecarNow: number | null };
  profiles: Array<{ profile: string; version: string }>;
  /** Distinct profile versions seen minus one: each later version is a change. */
  profileChanges: number;
  reloadFailures: number;
  /** Counter resets inside the window (restarted sidecars): totals may undercount. */
  counterResets: number;
}

export interface ComplianceReport {
  generatedAt: string;
  prometheus: string;
  since: string;
  window: { start: string; end: string };
  /** Width of one point in the over-time charts. */
  stepSeconds: number;
  namespaces: NamespaceReport[];
}

export interface BuildOptions {
  prometheusUrl: string;
  namespace?: string;
  since: string;
  /** Report end (Unix seconds); default now. */
  end?: number;
}

/** "30d", "12h", "90m", "45s" → seconds; a clear error otherwise. */
export function parseSince(text: string): number {
  const m = /^(\d+)(s|m|h|d|w)$/.exec(text.trim());
  if (!m) throw new RangeError(`--since must look like 30d, 12h, 90m or 45s, got ${JSON.stringify(text)}`);
  const seconds = Number(m[1]) * { s: 1, m: 60, h: 3600, d: 86400, w: 604800 }[m[2] as 's' | 'm' | 'h' | 'd' | 'w'];
  if (seconds < 60) throw new RangeError('--since must be at least 1m');
  return seconds;
}

export async function buildReport(api: PrometheusApi, opts: BuildOptions): Promise<ComplianceReport> {
  const rangeSeconds = parseSince(opts.since);
  const end = opts.end ?? Math.floor(Date.now() / 1000);
  const start = end - rangeSeconds;
  const range = `${rangeSeconds}s`;
  // About 120 points per chart; each point counts what happened in the
  // minute (or step, when wider) before it, so the usual 15-30 s scrape
  // interval still puts two samples in every window increase() looks at.
  const stepSeconds = Math.max(5, Math.ceil(rangeSeconds / 120));
  const window = `${Math.max(stepSeconds, 60)}s`;
  const namespaces =
    opts.namespace !== undefined
      ? [opts.namespace]
      : (await api.instant(QUERIES.namespaces(range), end)).map((s) => s.metric.namespace ?? '').filter((n) => n !== '').sort();
  const reports: NamespaceReport[] = [];
  for (const ns of namespaces) reports.push(await namespaceReport(api, ns, { range, end, start, stepSeconds, window }));
  return {
    generatedAt: new Date(end * 1000).toISOString(),
    prometheus: opts.prometheusUrl,
    since: opts.since,
    window: { start: new Date(start * 1000).toISOString(), end: new Date(end * 1000).toISOString() },
    stepSeconds,
    namespaces: reports,
  };
}

async function namespaceReport(
  api: PrometheusApi,
  namespace: string,
  w: { range: string; end: number; start: number; stepSeconds: number; window: string },
): Promise<NamespaceReport> {
  const sel = selectorFor(namespace);
  const scalar = async (q: string): Promise<number | null> => {
    const r = await api.instant(q, w.end);
    return r.length === 0 ? null : round(r[0]!.value);
  };
  const [decisionRows, findingRows, enforced, decisionsOverTime, profiles] = await Promise.all([
    api.instant(QUERIES.decisions(sel, w.range), w.end),
    api.instant(QUERIES.findings(sel, w.range), w.end),
    api.range(QUERIES.enforcedOverTime(sel, w.window), w.start, w.end, w.stepSeconds),
    api.range(QUERIES.decisionsOverTime(sel, w.window), w.start, w.end, w.stepSeconds),
    api.instant(QUERIES.profileVersions(sel, w.range), w.end),
  ]);
  const decisions: Record<string, number> = {};
  for (const r of decisionRows) decisions[r.metric.decision ?? 'unknown'] = round(r.value);
  const findings = findingRows
    .map((r) => ({ detector: r.metric.detector ?? '', category: r.metric.category ?? '', action: r.metric.action ?? '', count: round(r.value) }))
    .filter((f) => f.count > 0)
    .sort((a, b) => b.count - a.count || a.detector.localeCompare(b.detector));
  const byCategory: Record<string, Record<string, number>> = {};
  for (const f of findings) {
    const c = (byCategory[f.category] ??= {});
    c[f.action] = (c[f.action] ?? 0) + f.count;
  }
  const versions = profiles.map((p) => ({ profile: p.metric.profile ?? '', version: p.metric.version ?? '' })).sort((a, b) => a.profile.localeCompare(b.profile) || a.version.localeCompare(b.version));
  return {
    namespace,
    requests: Object.values(decisions).reduce((a, b) => a + b, 0),
    decisions,
    findings,
    byCategory,
    enforcedOverTime: series(enforced, (m) => `${m.detector} (${m.category}) ${m.action}`),
    decisionsOverTime: series(decisionsOverTime, (m) => m.decision ?? ''),
    coverage: {
      sidecarsReporting: (await scalar(QUERIES.sidecars(sel, w.range))) ?? 0,
      podsMissingSidecarMax: await scalar(QUERIES.missingSidecar(sel, w.range)),
      podsMissingSidecarNow: await scalar(QUERIES.missingSidecarNow(sel)),
    },
    profiles: versions,
    profileChanges: Math.max(0, versions.length - new Set(versions.map((v) => v.profile)).size),
    reloadFailures: (await scalar(QUERIES.reloadFailures(sel, w.range))) ?? 0,
    counterResets: (await scalar(QUERIES.resets(sel, w.range))) ?? 0,
  };
}

function series(rows: RangeSeries[], label: (m: Record<string, string>) => string): TimeSeries[] {
  return rows
    .map((r) => ({ label: label(r.metric), points: r.points.map(([t, v]) => [t, round(v)] as [number, number]) }))
    .sort((a, b) => a.label.localeCompare(b.label));
}

/** Counters are integers; PromQL arithmetic can leave float dust. */
function round(v: number): number {
  return Math.round(v * 1000) / 1000;
}
