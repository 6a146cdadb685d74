// "kube-dlp / Exfiltration": what sensitive data tried to leave, from where,
// and what the sidecars did about it. For security teams.
import type { DashboardSpec } from '../grafana';
import { ALERT_ON_ANY, WARN_ON_ANY } from './thresholds';
import { RANGE, RATE, TRAFFIC, ofTrafficSidecars, requests } from './promql';
import { PROMETHEUS_DATASOURCE, LOKI_DATASOURCE, NAMESPACE, TENANT, PROFILE, AUDIT_SELECTOR } from './variables';

const BLOCKED = 'blocked|blocked_late';
const DENIED = 'denied_cross_tenant|denied_destination';
const findingsRate = `rate(kubedlp_findings_total[${RATE}])`;

export const exfiltrationDashboard: DashboardSpec = {
  uid: 'kube-dlp-exfiltration',
  title: 'kube-dlp / Exfiltration',
  description:
    'Sensitive data leaving the cluster: requests the kube-dlp sidecars blocked, redacted or flagged, by namespace, tenant and detector; ' +
    'late blocks, uninspected egress and denied destinations.',
  variables: [PROMETHEUS_DATASOURCE, NAMESPACE, TENANT, PROFILE, LOKI_DATASOURCE, AUDIT_SELECTOR],
  rows: [
    {
      title: 'In the selected time range',
      panels: [
        {
          kind: 'stat',
          title: 'Blocked requests',
          description: 'How many requests did the sidecars block (before or after forwarding began) in the time range?',
          targets: [{ expr: `sum(increase(${requests(BLOCKED)}[${RANGE}]))`, instant: true }],
          thresholds: ALERT_ON_ANY,
          noValue: '0',
          w: 4,
          h: 4,
        },
        {
          kind: 'stat',
          title: 'Redacted requests',
          description: 'How many requests went out with sensitive values masked in place?',
          targets: [{ expr: `sum(increase(${requests('redacted')}[${RANGE}]))`, instant: true }],
          thresholds: WARN_ON_ANY,
          noValue: '0',
          w: 4,
          h: 4,
        },
        {
          kind: 'stat',
          title: 'Flagged findings',
          description: 'How many findings were recorded but let through (action monitor: Monitor mode, or low severities in Protect mode)?',
          targets: [{ expr: `sum(${ofTrafficSidecars(`increase(kubedlp_findings_total{action="monitor"}[${RANGE}])`)})`, instant: true }],
          thresholds: WARN_ON_ANY,
          noValue: '0',
          w: 4,
          h: 4,
        },
        {
          kind: 'stat',
          title: 'Blocked bytes',
          description: 'How much request body data did blocked requests carry?',
          targets: [{ expr: `sum(${ofTrafficSidecars(`increase(kubedlp_blocked_bytes_total[${RANGE}])`)})`, instant: true }],
          unit: 'bytes',
          thresholds: ALERT_ON_ANY,
          noValue: '0',
          w: 4,
          h: 4,
        },
        {
          kind: 'stat',
          title: 'Cross-tenant denials',
          description: "How many requests tried to reach another tenant's workloads? Any is worth a look (alert KubeDlpCrossTenantDenial).",
          targets: [{ expr: `sum(increase(${requests('denied_cross_tenant')}[${RANGE}]))`, instant: true }],
          thresholds: ALERT_ON_ANY,
          noValue: '0',
          w: 4,
          h: 4,
        },
        {
          kind: 'stat',
          title: 'Uninspected egress',
          description: 'How many requests and CONNECT tunnels went out without inspection (allowed by egress.uninspectable: Allow or an allowUninspectable exception)?',
          targets: [{ expr: `sum(increase(${requests('uninspected')}[${RANGE}]))`, instant: true }],
          thresholds: WARN_ON_ANY,
          noValue: '0',
          w: 4,
          h: 4,
        },
      ],
    },
    {
      title: 'Over time',
      panels: [
        {
          kind: 'timeseries',
          title: 'Blocked, redacted and flagged by namespace',
          description: 'Which namespaces are sending sensitive data, and is it being stopped (blocked), masked (redacted) or only recorded (flagged findings)?',
          targets: [
            { expr: `sum by (namespace) (rate(${requests(BLOCKED)}[${RATE}]))`, legend: '{{namespace}} blocked' },
            { expr: `sum by (namespace) (rate(${requests('redacted')}[${RATE}]))`, legend: '{{namespace}} redacted' },
            { expr: `sum by (namespace) (${ofTrafficSidecars(`rate(kubedlp_findings_total{action="monitor"}[${RATE}])`)})`, legend: '{{namespace}} flagged' },
          ],
          unit: 'reqps',
          w: 12,
        },
        {
          kind: 'timeseries',
          title: 'Decisions by tenant',
          description: 'Which tenants trigger the proxy, and with what outcome? Allowed requests are left out.',
          targets: [{ expr: `sum by (tenant, decision) (rate(kubedlp_proxy_requests_total{${TRAFFIC}, decision!="allowed"}[${RATE}]))`, legend: '{{tenant}} {{decision}}' }],
          unit: 'reqps',
          stack: true,
          w: 12,
        },
        {
          kind: 'timeseries',
          title: 'Findings by detector and action',
          description: 'Which kinds of sensitive data (card numbers, keys, national IDs, ...) are found, and what was done with each?',
          targets: [{ expr: `sum by (detector, action) (${ofTrafficSidecars(findingsRate)})`, legend: '{{detector}} ({{action}})' }],
          unit: 'short',
          stack: true,
          w: 12,
        },
        {
          kind: 'bargauge',
          title: 'Top detectors',
          description: 'Which ten detectors found the most in the time range, in the selected namespaces and tenants?',
          targets: [{ expr: `topk(10, sum by (detector) (${ofTrafficSidecars(`increase(kubedlp_findings_total[${RANGE}])`)}))`, legend: '{{detector}}', instant: true }],
          w: 12,
        },
        {
          kind: 'timeseries',
          title: 'Blocked bytes by namespace',
          description: 'How much request body data are blocked requests carrying, per namespace? A rise means larger payloads are being attempted.',
          targets: [{ expr: `sum by (namespace, tenant) (${ofTrafficSidecars(`rate(kubedlp_blocked_bytes_total[${RATE}])`)})`, legend: '{{namespace}} ({{tenant}})' }],
          unit: 'Bps',
          w: 12,
        },
        {
          kind: 'timeseries',
          title: 'Late blocks',
          description:
            'Which sidecars found data only after forwarding had begun (past the hold-back window), so the upstream request was aborted mid-body? ' +
            'The upstream may have received the start of the body; a larger inspection.holdBackBytes turns these into clean blocks.',
          targets: [{ expr: `sum by (namespace, pod) (rate(${requests('blocked_late')}[${RATE}]))`, legend: '{{namespace}}/{{pod}}' }],
          unit: 'reqps',
          w: 12,
        },
        {
          kind: 'timeseries',
          title: 'Uninspected egress by namespace',
          description: 'Which namespaces send traffic the proxy cannot look into (CONNECT tunnels, bodies beyond the inspection limits) and is allowed to?',
          targets: [{ expr: `sum by (namespace, tenant) (rate(${requests('uninspected')}[${RATE}]))`, legend: '{{namespace}} ({{tenant}})' }],
          unit: 'reqps',
          w: 12,
        },
        {
          kind: 'timeseries',
          title: 'Cross-tenant and destination denials',
          description: "Who tries to reach another tenant's workloads (denied_cross_tenant) or a destination the egress policy denies (denied_destination)?",
          targets: [{ expr: `sum by (namespace, tenant, decision) (rate(${requests(DENIED)}[${RATE}]))`, legend: '{{namespace}} ({{tenant}}) {{decision}}' }],
          unit: 'reqps',
          w: 12,
        },
      ],
    },
    {
      title: 'Audit log (needs Loki)',
      collapsed: true,
      panels: [
        {
          kind: 'logs',
          title: 'Blocked and denied requests (audit log)',
          description:
            'The audit lines behind the numbers above: pod, destination, sanitized path, detectors and masked evidence. ' +
            'Needs the sidecar logs in Loki; set the Loki datasource and the stream selector variables.',
          expr: '$audit_selector | json | decision=~"blocked|blocked_late|denied_cross_tenant|denied_destination" | namespace=~"$namespace" | tenant=~"$tenant"',
          w: 24,
          h: 12,
        },
      ],
    },
  ],
};
