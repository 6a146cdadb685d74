// The PromQL behind the compliance report, in one place so a reader can check
// what each number means. Totals use max_over_time minus the value at the
// window's start (or the whole value for series born inside it), so a
// counter read from a fresh sidecar gives its exact count instead of
// increase()'s extrapolation. A sidecar restarted inside the window resets
// its counters; totals then undercount, and the report says so when
// resets() sees it.
export type Selector = string;

export const selectorFor = (namespace: string): Selector => `namespace="${namespace.replace(/["\\]/g, '')}"`;

/** Exact count per series over [end-range, end], summed by `by`. */
export function windowTotal(metric: string, sel: Selector, range: string, by: string[]): string {
  const s = `${metric}{${sel}}`;
  return `sum by (${by.join(', ')}) ((max_over_time(${s}[${range}]) - ${s} offset ${range}) or max_over_time(${s}[${range}]))`;
}

export const QUERIES = {
  namespaces: (range: string) => `group by (namespace) (max_over_time(kubedlp_config_info[${range}]))`,
  decisions: (sel: Selector, range: string) => windowTotal('kubedlp_proxy_requests_total', sel, range, ['decision']),
  findings: (sel: Selector, range: string) => windowTotal('kubedlp_findings_total', sel, range, ['detector', 'category', 'action']),
  resets: (sel: Selector, range: string) => `sum(resets(kubedlp_proxy_requests_total{${sel}}[${range}]))`,
  /** Per step: findings that were blocked or redacted, by detector and action. */
  enforcedOverTime: (sel: Selector, step: string) =>
    `sum by (detector, category, action) (increase(kubedlp_findings_total{${sel}, action=~"block|redact"}[${step}]))`,
  decisionsOverTime: (sel: Selector, step: string) =>
    `sum by (decision) (increase(kubedlp_proxy_requests_total{${sel}, decision=~"blocked|blocked_late|redacted|denied_destination|denied_cross_tenant|uninspected"}[${step}]))`,
  sidecars: (sel: Selector, range: string) => `count(group by (pod) (max_over_time(kubedlp_config_info{${sel}}[${range}])))`,
  missingSidecar: (sel: Selector, range: string) => `max(max_over_time(kubedlp_pods_missing_sidecar{${sel}}[${range}]))`,
  missingSidecarNow: (sel: Selector) => `max(kubedlp_pods_missing_sidecar{${sel}})`,
  profileVersions: (sel: Selector, range: string) => `count by (profile, version) (max_over_time(kubedlp_config_info{${sel}}[${range}]))`,
  reloadFailures: (sel: Selector, range: string) => windowTotal('kubedlp_config_reload_failures_total', sel, range, ['namespace']),
};
