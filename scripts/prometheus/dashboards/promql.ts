// PromQL pieces the dashboards share.
//
// Label model (see docs/dashboards.md, "Labels"): Prometheus attaches
// `namespace` and `pod` to every sidecar series as target labels (PodMonitor,
// or the relabelling in config/prometheus/scrape-configs.example.yml). The
// proxy itself puts `namespace`, `tenant`, `profile` and `decision` on
// kubedlp_proxy_requests_total only; `profile` and `version` on
// kubedlp_config_info. Panels about other sidecar metrics reach tenant and
// profile by joining on (namespace, pod).

export const RATE = '$__rate_interval';
export const RANGE = '$__range';

/** Selector of the traffic dashboard's variables on the request counter. */
export const TRAFFIC = 'namespace=~"$namespace", tenant=~"$tenant", profile=~"$profile"';

export function requests(decisions?: string): string {
  return `kubedlp_proxy_requests_total{${TRAFFIC}${decisions ? `, decision=~"${decisions}"` : ''}}`;
}

/**
 * (namespace, pod, tenant) → 1 for each sidecar matching the traffic
 * variables. A sidecar appears here once it has handled a request, which is
 * always true of one that has findings or blocked bytes to show.
 */
const TRAFFIC_SIDECARS = `group by (namespace, pod, tenant) (${requests()})`;

/** `expr` (per sidecar series) restricted to the selected sidecars, with their tenant label added. */
export function ofTrafficSidecars(expr: string): string {
  return `${expr} * on (namespace, pod) group_left (tenant) ${TRAFFIC_SIDECARS}`;
}

/** Selector of the data-plane dashboard's variables on any sidecar series (target labels). */
export const SIDECAR = 'namespace=~"$namespace", pod=~"$pod"';

/**
 * (namespace, pod) → 1 for each sidecar matching the data-plane variables,
 * profile included; kubedlp_config_info exists from the moment a sidecar
 * has loaded its profile, so idle sidecars are not hidden.
 */
const PROFILE_SIDECARS = `group by (namespace, pod) (kubedlp_config_info{${SIDECAR}, profile=~"$profile"})`;

/** `expr` (per sidecar series) restricted to the sidecars the data-plane variables select. */
export function ofSelectedSidecars(expr: string): string {
  return `${expr} * on (namespace, pod) group_left () ${PROFILE_SIDECARS}`;
}

export function quantile(q: number, bucketRate: string, by: string[] = []): string {
  return `histogram_quantile(${q}, sum by (${['le', ...by].join(', ')}) (${bucketRate}))`;
}
