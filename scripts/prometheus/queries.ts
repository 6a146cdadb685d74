// Reading queries back out of generated dashboards and rule files, and
// expanding Grafana's template variables the way Grafana would, so tests can
// run every panel and alert against a real Prometheus and check every metric
// name against what the code exports.
import type { Json } from './grafana';

export interface DashboardQuery {
  dashboard: string;
  panel: string;
  refId: string;
  expr: string;
  datasource: 'prometheus' | 'loki';
}

export interface VariableQuery {
  dashboard: string;
  name: string;
  /** `label_values(selector, label)` or `label_values(label)`. */
  query: string;
}

/** Every panel, rows and the panels inside collapsed rows included, in layout order. */
export function panelsOf(dashboard: Json): Json[] {
  const out: Json[] = [];
  for (const p of dashboard.panels as Json[]) {
    out.push(p);
    if (Array.isArray(p.panels)) out.push(...(p.panels as Json[]));
  }
  return out;
}

/** Every target of every panel. */
export function dashboardQueries(dashboard: Json): DashboardQuery[] {
  return panelsOf(dashboard).flatMap((p) =>
    ((p.targets as Json[] | undefined) ?? []).map((t) => ({
      dashboard: String(dashboard.uid),
      panel: String(p.title),
      refId: String(t.refId),
      expr: String(t.expr),
      datasource: (t.datasource as { type?: string } | undefined)?.type === 'loki' ? ('loki' as const) : ('prometheus' as const),
    })),
  );
}

export function variableQueries(dashboard: Json): VariableQuery[] {
  const list = ((dashboard.templating as Json).list as Json[]).filter((v) => v.type === 'query');
  return list.map((v) => ({ dashboard: String(dashboard.uid), name: String(v.name), query: String(v.query) }));
}

export interface LabelValuesQuery {
  /** Series selector, absent for `label_values(label)`. */
  match?: string;
  label: string;
}

export function parseLabelValues(query: string): LabelValuesQuery {
  const m = /^label_values\((?:(.+),\s*)?([a-zA-Z_][a-zA-Z0-9_]*)\)$/.exec(query.trim());
  if (!m) throw new Error(`not a label_values() query: ${query}`);
  return m[1] === undefined ? { label: m[2] } : { match: m[1].trim(), label: m[2] };
}

/**
 * Substitutes `$name` and `${name}` with `values[name]`. A variable with no
 * value is an error, so a misspelt variable in a panel fails the test
 * instead of reaching Prometheus as literal text.
 */
export function expandTemplate(expr: string, values: Record<string, string>): string {
  return expr.replace(/\$\{(\w+)\}|\$(\w+)/g, (whole, braced: string | undefined, bare: string | undefined) => {
    const name = (braced ?? bare)!;
    if (!(name in values)) throw new Error(`unknown template variable ${whole} in: ${expr}`);
    return values[name];
  });
}

/** Template variables an expression uses. */
export function variablesIn(expr: string): Set<string> {
  return new Set([...expr.matchAll(/\$\{(\w+)\}|\$(\w+)/g)].map((m) => m[1] ?? m[2]));
}

const KUBEDLP_NAME = /\bkubedlp_[a-zA-Z0-9_:]*/g;
const HISTOGRAM_SERIES = /_(bucket|sum|count)$/;

export interface ExportedMetrics {
  names: ReadonlySet<string>;
  /** The histograms among them: only these have `_bucket`, `_sum` and `_count` series. */
  histograms: ReadonlySet<string>;
}

/**
 * kube-dlp metric names an expression reads, as exported: a histogram's
 * `_bucket`, `_sum` and `_count` series map to the histogram's name.
 */
export function kubedlpMetricNames(expr: string, exported: ExportedMetrics): string[] {
  const names = new Set<string>();
  for (const [name] of expr.matchAll(KUBEDLP_NAME)) {
    const base = name.replace(HISTOGRAM_SERIES, '');
    names.add(base !== name && exported.histograms.has(base) ? base : name);
  }
  return [...names].sort();
}

export interface AlertRule {
  group: string;
  alert: string;
  expr: string;
  for?: string;
  labels: Record<string, string>;
  annotations: Record<string, string>;
}

/** The alerting rules of a parsed rules file (`groups: [{name, rules}]`). */
export function alertRules(rulesFile: Json): AlertRule[] {
  return (rulesFile.groups as Json[]).flatMap((g) =>
    (g.rules as Json[])
      .filter((r) => typeof r.alert === 'string')
      .map((r) => ({
        group: String(g.name),
        alert: String(r.alert),
        expr: String(r.expr),
        ...(r.for !== undefined ? { for: String(r.for) } : {}),
        labels: (r.labels as Record<string, string> | undefined) ?? {},
        annotations: (r.annotations as Record<string, string> | undefined) ?? {},
      })),
  );
}

export interface LabelMatcher {
  label: string;
  op: '=' | '!=' | '=~' | '!~';
  value: string;
}

/** Label matchers with literal values (`decision=~"blocked|blocked_late"`); template variables are left in. */
export function labelMatchers(expr: string): LabelMatcher[] {
  return [...expr.matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)\s*(=~|!~|!=|=)\s*"([^"]*)"/g)].map((m) => ({
    label: m[1],
    op: m[2] as LabelMatcher['op'],
    value: m[3],
  }));
}
