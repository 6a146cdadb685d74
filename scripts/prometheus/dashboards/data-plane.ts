// "kube-dlp / Data plane": are the sidecars healthy, fast, on the expected
// profile and on the fast engine? For platform teams running kube-dlp.
import type { DashboardSpec, Threshold } from '../grafana';
import { WARN_ON_ANY } from './thresholds';
import { RANGE, RATE, SIDECAR, ofSelectedSidecars, quantile } from './promql';
import { PROMETHEUS_DATASOURCE, NAMESPACE, PROFILE, POD } from './variables';

/** One version per namespace is a finished rollout; more is skew. */
const SKEW: Threshold[] = [
  { color: 'green', value: null },
  { color: 'orange', value: 2 },
];

const perSidecar = (metric: string, matchers = ''): string => ofSelectedSidecars(`${metric}{${SIDECAR}${matchers ? `, ${matchers}` : ''}}`);
const ratePerSidecar = (metric: string): string => ofSelectedSidecars(`rate(${metric}{${SIDECAR}}[${RATE}])`);

export const dataPlaneDashboard: DashboardSpec = {
  uid: 'kube-dlp-data-plane',
  title: 'kube-dlp / Data plane health',
  description:
    'The kube-dlp sidecars as a fleet: traffic and decisions per pod, scan throughput and latency, upstream latency, connections, ' +
    'profile versions and reloads, and which scan engine each sidecar runs.',
  variables: [PROMETHEUS_DATASOURCE, NAMESPACE, PROFILE, POD],
  rows: [
    {
      title: 'Fleet',
      panels: [
        {
          kind: 'stat',
          title: 'Sidecars',
          description: 'How many sidecars report metrics (loaded a profile and are scraped)?',
          targets: [{ expr: `count(${perSidecar('kubedlp_config_info')})`, instant: true }],
          w: 4,
          h: 4,
        },
        {
          kind: 'stat',
          title: 'Sidecars on the RE2 fallback',
          description:
            'How many sidecars scan with the RE2 fallback engine instead of Vectorscan (several times slower)? ' +
            'Should be 0: the Vectorscan addon failed to load or the CPU lacks its instruction set (alert KubeDlpFallbackEngine).',
          targets: [{ expr: `count(${perSidecar('kubedlp_engine_info', 'engine="re2"')} == 1)`, instant: true }],
          thresholds: WARN_ON_ANY,
          noValue: '0',
          w: 4,
          h: 4,
        },
        {
          kind: 'stat',
          title: 'Profile reload failures',
          description: 'How many profile reloads were rejected in the time range (the sidecar keeps the previous profile)? Alert KubeDlpProfileReloadFailing.',
          targets: [{ expr: `sum(${ofSelectedSidecars(`increase(kubedlp_config_reload_failures_total{${SIDECAR}}[${RANGE}])`)})`, instant: true }],
          thresholds: WARN_ON_ANY,
          noValue: '0',
          w: 4,
          h: 4,
        },
        {
          kind: 'stat',
          title: 'Max config versions in a namespace',
          description:
            'Do all sidecars of a namespace run the same profile version? 1 is a finished rollout; more means some pods have not picked up ' +
            'the latest rendering (alert KubeDlpConfigVersionSkew). See the per-sidecar table below.',
          targets: [{ expr: `max(count by (namespace) (count by (namespace, version) (${perSidecar('kubedlp_config_info')} == 1)))`, instant: true }],
          thresholds: SKEW,
          w: 4,
          h: 4,
        },
        {
          kind: 'stat',
          title: 'Open connections',
          description: 'How many client connections (CONNECT tunnels included) are open across the selected sidecars right now?',
          targets: [{ expr: `sum(${perSidecar('kubedlp_open_connections')})`, instant: true }],
          w: 4,
          h: 4,
        },
        {
          kind: 'stat',
          title: 'Rejected bad requests',
          description: 'How many requests were rejected as malformed or looping before any policy applied, in the time range?',
          targets: [{ expr: `sum(${ofSelectedSidecars(`increase(kubedlp_bad_requests_total{${SIDECAR}}[${RANGE}])`)})`, instant: true }],
          thresholds: WARN_ON_ANY,
          noValue: '0',
          w: 4,
          h: 4,
        },
      ],
    },
    {
      title: 'Engine and configuration per sidecar',
      panels: [
        {
          kind: 'stat',
          title: 'Scan engine per sidecar',
          description: 'Which engine does each sidecar scan with? Orange: the RE2 fallback (slower; the sidecar logs why at startup).',
          targets: [
            {
              // 1 on the RE2 fallback, 0 otherwise (only the active engine's series exists).
              expr: `max by (namespace, pod) (${perSidecar('kubedlp_engine_info', 'engine="re2"')}) or max by (namespace, pod) (${perSidecar('kubedlp_engine_info')}) * 0`,
              legend: '{{namespace}}/{{pod}}',
              instant: true,
            },
          ],
          mappings: [
            { value: '0', text: 'Vectorscan', color: 'green' },
            { value: '1', text: 'RE2 fallback', color: 'orange' },
          ],
          thresholds: WARN_ON_ANY,
          w: 24,
          h: 5,
        },
        {
          kind: 'table',
          title: 'Profile version per sidecar',
          description:
            'Which profile and version does each sidecar enforce? The version is a hash of what the profile means, ' +
            'so sidecars of one namespace should agree once a rollout is done.',
          targets: [{ expr: `max by (namespace, pod, profile, version) (${perSidecar('kubedlp_config_info')})` }],
          w: 12,
          h: 9,
        },
        {
          kind: 'table',
          title: 'Time since last profile load',
          description: 'How long has each sidecar run its current profile? A young age on every pod means a rollout; a very old one next to young ones, a pod that missed it.',
          targets: [{ expr: `max by (namespace, pod) (time() - ${perSidecar('kubedlp_config_last_reload_success_timestamp_seconds')})` }],
          valueTitle: 'Age',
          unit: 's',
          w: 12,
          h: 9,
        },
        {
          kind: 'timeseries',
          title: 'Config versions per namespace',
          description: 'How many distinct profile versions run in each namespace over time? Above 1 for long means a stuck rollout.',
          targets: [{ expr: `count by (namespace) (count by (namespace, version) (${perSidecar('kubedlp_config_info')} == 1))`, legend: '{{namespace}}' }],
          thresholds: SKEW,
          w: 12,
        },
        {
          kind: 'timeseries',
          title: 'Reload failures',
          description:
            'Which sidecars rejected a new profile or tenant directory (invalid or unreadable file)? They keep enforcing the previous one. ' +
            'Alerts KubeDlpProfileReloadFailing and KubeDlpTenantDirectoryReloadFailing.',
          targets: [
            { expr: `sum by (namespace, pod) (${ratePerSidecar('kubedlp_config_reload_failures_total')})`, legend: '{{namespace}}/{{pod}} profile' },
            { expr: `sum by (namespace, pod) (${ratePerSidecar('kubedlp_tenant_directory_reload_failures_total')})`, legend: '{{namespace}}/{{pod}} tenant directory' },
          ],
          unit: 'ops',
          w: 12,
        },
      ],
    },
    {
      title: 'Traffic',
      panels: [
        {
          kind: 'timeseries',
          title: 'Requests per sidecar',
          description: 'How much traffic does each sidecar handle (requests and CONNECT tunnels)?',
          targets: [{ expr: `sum by (namespace, pod) (${ratePerSidecar('kubedlp_proxy_requests_total')})`, legend: '{{namespace}}/{{pod}}' }],
          unit: 'reqps',
          w: 12,
        },
        {
          kind: 'timeseries',
          title: 'Decisions per sidecar',
          description: 'What does each sidecar decide: allowed, blocked, redacted, denied, uninspected, or error (upstream failure)?',
          targets: [{ expr: `sum by (pod, decision) (${ratePerSidecar('kubedlp_proxy_requests_total')})`, legend: '{{pod}} {{decision}}' }],
          unit: 'reqps',
          stack: true,
          w: 12,
        },
        {
          kind: 'timeseries',
          title: 'Open connections per sidecar',
          description: 'How many client connections, CONNECT tunnels included, does each sidecar hold open?',
          targets: [{ expr: `sum by (namespace, pod) (${perSidecar('kubedlp_open_connections')})`, legend: '{{namespace}}/{{pod}}' }],
          w: 12,
        },
        {
          kind: 'timeseries',
          title: 'Bad requests by reason',
          description: 'Why are requests rejected before policy (malformed, oversized headers, loops, origin-form requests to the proxy port, ...)?',
          targets: [{ expr: `sum by (reason) (${ratePerSidecar('kubedlp_bad_requests_total')})`, legend: '{{reason}}' }],
          unit: 'reqps',
          w: 12,
        },
        {
          kind: 'timeseries',
          title: 'TLS interception outcomes',
          description:
            'What happens to HTTPS tunnels: intercepted (inspected), bypassed (tls.bypass, uninspected), client_rejected_ca ' +
            '(the client does not trust the tenant CA or pins: see the audit log for the host), upstream_verify_failed (refused), ...?',
          targets: [{ expr: `sum by (outcome) (${ratePerSidecar('kubedlp_tls_connections_total')})`, legend: '{{outcome}}' }],
          unit: 'reqps',
          w: 12,
        },
      ],
    },
    {
      title: 'Inspection performance',
      panels: [
        {
          kind: 'timeseries',
          title: 'Scan throughput',
          description: 'How many bytes per second does each sidecar pass through the scan engine (URLs, headers, bodies and decoded views)?',
          targets: [{ expr: `sum by (namespace, pod) (${ratePerSidecar('kubedlp_scan_bytes_total')})`, legend: '{{namespace}}/{{pod}}' }],
          unit: 'Bps',
          w: 8,
        },
        {
          kind: 'timeseries',
          title: 'Scan latency',
          description: 'How much time does scanning add to a request (p50, p99 over the selected sidecars, p99 per sidecar)?',
          targets: [
            { expr: quantile(0.5, ratePerSidecar('kubedlp_scan_duration_seconds_bucket')), legend: 'p50' },
            { expr: quantile(0.99, ratePerSidecar('kubedlp_scan_duration_seconds_bucket')), legend: 'p99' },
            { expr: quantile(0.99, ratePerSidecar('kubedlp_scan_duration_seconds_bucket'), ['pod']), legend: 'p99 {{pod}}' },
          ],
          unit: 's',
          w: 8,
        },
        {
          kind: 'timeseries',
          title: 'Upstream latency',
          description: 'How long do upstreams take to answer (request start to response headers)? Separates slow destinations from slow inspection.',
          targets: [
            { expr: quantile(0.5, ratePerSidecar('kubedlp_upstream_duration_seconds_bucket')), legend: 'p50' },
            { expr: quantile(0.99, ratePerSidecar('kubedlp_upstream_duration_seconds_bucket')), legend: 'p99' },
          ],
          unit: 's',
          w: 8,
        },
        {
          kind: 'timeseries',
          title: 'Audit events folded',
          description: 'How many repeated audit events (same detectors, destination and action) were folded into summary lines by the rate limiter?',
          targets: [{ expr: `sum by (namespace, pod) (${ratePerSidecar('kubedlp_audit_events_suppressed_total')})`, legend: '{{namespace}}/{{pod}}' }],
          unit: 'ops',
          w: 12,
        },
        {
          kind: 'timeseries',
          title: 'Intercepted TLS: upstream connections',
          description:
            'Where intercepted client connections get their upstream connection: new (a TCP and TLS handshake the client waits for) or pooled ' +
            '(an idle connection a previous client of the same upstream left). A low pooled share with busy upstreams means clients reconnect more slowly than the 4 s idle window.',
          targets: [{ expr: `sum by (source) (${ratePerSidecar('kubedlp_tls_upstream_connections_total')})`, legend: '{{source}}' }],
          unit: 'cps',
          w: 12,
        },
        {
          kind: 'timeseries',
          title: 'Transparent capture: connections by protocol',
          description: 'Transparent mode only: what do captured connections carry (http, h2c, tls, tcp), and how many arrive explicitly (HTTP_PROXY clients on loopback)?',
          targets: [{ expr: `sum by (protocol) (${ratePerSidecar('kubedlp_transparent_connections_total')})`, legend: '{{protocol}}' }],
          unit: 'cps',
          w: 6,
        },
        {
          kind: 'timeseries',
          title: 'Transparent capture: rejected connections',
          description:
            'Transparent mode only: captured connections closed before any exchange, by problem (no redirect record, a non-loopback client on the proxy port, a loop, client gone).',
          targets: [{ expr: `sum by (problem) (${ratePerSidecar('kubedlp_transparent_rejected_connections_total')})`, legend: '{{problem}}' }],
          unit: 'cps',
          w: 6,
        },
      ],
    },
  ],
};
