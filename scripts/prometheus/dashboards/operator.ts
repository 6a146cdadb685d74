// "kube-dlp / Operator": does every pod that should have a sidecar get one,
// and does the operator keep the rendered profiles current? Operator
// metrics are not per workload namespace by design (bounded labels), so this
// dashboard has no namespace or tenant filter except where a series names
// the opted-in namespace itself.
import type { DashboardSpec } from '../grafana';
import { ALERT_ON_ANY, WARN_ON_ANY } from './thresholds';
import { RANGE, RATE, quantile } from './promql';
import { PROMETHEUS_DATASOURCE } from './variables';

export const operatorDashboard: DashboardSpec = {
  uid: 'kube-dlp-operator',
  title: 'kube-dlp / Operator',
  description:
    'The kube-dlp operator and its injection webhook: admission requests, injections, failures and latency; reconciles and errors; ' +
    'opted-in namespaces and pods running without the sidecar.',
  variables: [PROMETHEUS_DATASOURCE],
  rows: [
    {
      title: 'Coverage',
      panels: [
        {
          kind: 'stat',
          title: 'Opted-in namespaces',
          description: 'How many namespaces have opted in (kubedlp.io/inject: enabled) and are managed by the operator?',
          // Every replica reports; the leader's view is the maximum.
          targets: [{ expr: 'max(kubedlp_operator_managed_namespaces)', instant: true }],
          w: 4,
          h: 4,
        },
        {
          kind: 'stat',
          title: 'Pods missing the sidecar',
          description:
            'How many pods in opted-in namespaces run without the sidecar (started before opt-in, or admitted while the webhook was down)? ' +
            'Their egress is not inspected (alert KubeDlpPodsMissingSidecar).',
          targets: [{ expr: 'sum(max by (namespace) (kubedlp_pods_missing_sidecar))', instant: true }],
          thresholds: ALERT_ON_ANY,
          noValue: '0',
          w: 4,
          h: 4,
        },
        {
          kind: 'stat',
          title: 'Injections',
          description: 'How many pods did the webhook inject a sidecar into in the time range?',
          targets: [{ expr: `sum(increase(kubedlp_webhook_injections_total[${RANGE}]))`, instant: true }],
          w: 4,
          h: 4,
        },
        {
          kind: 'stat',
          title: 'Webhook errors',
          description: 'How many admission requests failed with an error in the time range (alert KubeDlpWebhookErrors)?',
          targets: [{ expr: `sum(increase(kubedlp_webhook_requests_total{result="error"}[${RANGE}]))`, instant: true }],
          thresholds: ALERT_ON_ANY,
          noValue: '0',
          w: 4,
          h: 4,
        },
        {
          kind: 'stat',
          title: 'Profiles not ready',
          description: 'How many SecurityProfiles and ClusterSecurityProfiles are not Ready (invalid patterns, unknown detectors)?',
          targets: [{ expr: 'sum(max by (kind, ready) (kubedlp_operator_profiles{ready!="true"}))', instant: true }],
          thresholds: WARN_ON_ANY,
          noValue: '0',
          w: 4,
          h: 4,
        },
        {
          kind: 'stat',
          title: 'Leader',
          description: 'Does a replica hold the leader Lease? Without a leader nothing is reconciled (alert KubeDlpOperatorNoLeader).',
          targets: [{ expr: 'max(kubedlp_operator_leader)', instant: true }],
          mappings: [
            { value: '0', text: 'none', color: 'red' },
            { value: '1', text: 'elected', color: 'green' },
          ],
          w: 4,
          h: 4,
        },
        {
          kind: 'table',
          title: 'Pods missing the sidecar by namespace',
          description: 'Which opted-in namespaces have pods without the sidecar? Restart their workloads (or set kubedlp.io/rollout: auto).',
          targets: [{ expr: 'max by (namespace) (kubedlp_pods_missing_sidecar) > 0' }],
          valueTitle: 'Pods',
          w: 12,
          h: 8,
        },
        {
          kind: 'table',
          title: 'Rendered profile versions',
          description:
            'Which generation of each profile has the operator rendered into namespaces? Compare with the sidecars in the data-plane dashboard: ' +
            'a namespace whose sidecars disagree among themselves has not finished picking up the latest rendering.',
          targets: [{ expr: 'max by (kind, namespace, name, version) (kubedlp_operator_rendered_profile_info)' }],
          w: 12,
          h: 8,
        },
      ],
    },
    {
      title: 'Injection webhook',
      panels: [
        {
          kind: 'timeseries',
          title: 'Admission requests by result',
          description: 'How many pod admissions does the webhook answer, and how: injected, skipped (left unchanged), denied (refused with a message), error?',
          targets: [{ expr: `sum by (result) (rate(kubedlp_webhook_requests_total[${RATE}]))`, legend: '{{result}}' }],
          unit: 'reqps',
          stack: true,
          w: 8,
        },
        {
          kind: 'timeseries',
          title: 'Failures by reason',
          description: 'Why are admission requests refused or failing: HTTP-level refusals, undecodable reviews, internal errors, invalid annotations or namespaces?',
          targets: [{ expr: `sum by (reason) (rate(kubedlp_webhook_failures_total[${RATE}]))`, legend: '{{reason}}' }],
          unit: 'reqps',
          w: 8,
        },
        {
          kind: 'timeseries',
          title: 'Webhook latency',
          description:
            'How long does the webhook take to answer (p50, p99)? The API server waits for it on every pod creation in opted-in namespaces; its timeout is a few seconds.',
          targets: [
            { expr: quantile(0.5, `rate(kubedlp_webhook_duration_seconds_bucket[${RATE}])`), legend: 'p50' },
            { expr: quantile(0.99, `rate(kubedlp_webhook_duration_seconds_bucket[${RATE}])`), legend: 'p99' },
          ],
          unit: 's',
          w: 8,
        },
        {
          kind: 'timeseries',
          title: 'Injections and skips',
          description: 'How many pods are injected, and why are the others left alone (pod opted out, mirror pod, host network, ...)?',
          targets: [
            { expr: `sum(rate(kubedlp_webhook_injections_total[${RATE}]))`, legend: 'injected' },
            { expr: `sum by (reason) (rate(kubedlp_webhook_skips_total[${RATE}]))`, legend: 'skipped: {{reason}}' },
          ],
          unit: 'ops',
          w: 24,
        },
      ],
    },
    {
      title: 'Reconciliation',
      panels: [
        {
          kind: 'timeseries',
          title: 'Reconciles by controller and result',
          description: 'How busy are the controllers, and how do reconciles end (success, requeue, error, terminal)?',
          targets: [{ expr: `sum by (controller, result) (rate(kubedlp_operator_reconciles_total[${RATE}]))`, legend: '{{controller}} {{result}}' }],
          unit: 'ops',
          w: 8,
        },
        {
          kind: 'timeseries',
          title: 'Reconcile errors by code',
          description: 'Which errors do reconciles hit (API server errors, conflicts, ...)? Errors are retried with backoff (alert KubeDlpReconcileErrors).',
          targets: [{ expr: `sum by (controller, code) (rate(kubedlp_operator_reconcile_errors_total[${RATE}]))`, legend: '{{controller}} {{code}}' }],
          unit: 'ops',
          w: 8,
        },
        {
          kind: 'timeseries',
          title: 'Reconcile latency',
          description: 'How long does one reconcile take (p99 per controller)?',
          targets: [{ expr: quantile(0.99, `rate(kubedlp_operator_reconcile_duration_seconds_bucket[${RATE}])`, ['controller']), legend: 'p99 {{controller}}' }],
          unit: 's',
          w: 8,
        },
        {
          kind: 'timeseries',
          title: 'Work queue depth',
          description: 'How many keys wait in each work queue? A queue that only grows means the operator cannot keep up.',
          targets: [{ expr: 'max by (queue) (kubedlp_operator_workqueue_depth)', legend: '{{queue}}' }],
          w: 8,
        },
        {
          kind: 'timeseries',
          title: 'Operator memory',
          description: 'Resident memory of each operator replica (its informer caches grow with pods and namespaces).',
          targets: [{ expr: 'max by (pod) (kubedlp_operator_process_resident_memory_bytes)', legend: '{{pod}}' }],
          unit: 'bytes',
          w: 8,
        },
        {
          kind: 'timeseries',
          title: 'Operator event loop lag',
          description: 'p99 event loop lag of each replica: a blocked event loop delays webhook answers and lease renewals.',
          targets: [{ expr: 'max by (pod) (kubedlp_operator_nodejs_eventloop_lag_p99_seconds)', legend: '{{pod}}' }],
          unit: 's',
          w: 8,
        },
      ],
    },
  ],
};
