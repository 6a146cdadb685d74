// Metrics of the injection webhook and the rollout of running pods, on the
// operator's registry (one /metrics for the whole operator). Labels are closed
// sets, except `namespace` on kubedlp_pods_missing_sidecar, which only exists
// for namespaces that opted in and currently have such pods (the series is
// removed when the count drops to zero; likewise kubedlp_pods_orphaned_sidecar and
// kubedlp_pods_profile_missing), and `namespace`/`exemption` on
// kubedlp_webhook_exemptions_total, bounded by the exemptions profiles grant.
import { Counter, Gauge, Histogram, type Registry } from 'prom-client';
import { SKIP_REASONS } from '../inject/decide-injection';

export const METRIC_NAMES = [
  'kubedlp_webhook_requests_total',
  'kubedlp_webhook_injections_total',
  'kubedlp_webhook_skips_total',
  'kubedlp_webhook_failures_total',
  'kubedlp_webhook_duration_seconds',
  'kubedlp_pods_missing_sidecar',
  'kubedlp_webhook_exemptions_total',
  'kubedlp_pods_orphaned_sidecar',
  'kubedlp_pods_profile_missing',
] as const;
export type WebhookMetricName = (typeof METRIC_NAMES)[number];

/** How an admission request ended. */
export const REQUEST_RESULTS = ['injected', 'skipped', 'denied', 'error'] as const;
export type RequestResult = (typeof REQUEST_RESULTS)[number];

/**
 * Why a request failed: HTTP-level refusals, undecodable reviews, an
 * exception while injecting, and namespace/annotation denials.
 */
export const FAILURE_REASONS = [
  'method-not-allowed',
  'not-found',
  'unsupported-media-type',
  'body-too-large',
  'bad-request',
  'internal',
  'invalid-annotations',
  'invalid-namespace',
  'pod-not-protected',
] as const;
export type FailureReason = (typeof FAILURE_REASONS)[number];

export class WebhookMetrics {
  readonly requests: Counter<'result'>;
  readonly injections: Counter;
  readonly skips: Counter<'reason'>;
  readonly failures: Counter<'reason'>;
  readonly duration: Histogram;
  readonly podsMissingSidecar: Gauge<'namespace'>;
  readonly exemptions: Counter<'namespace' | 'exemption'>;
  readonly podsOrphanedSidecar: Gauge<'namespace'>;
  readonly podsProfileMissing: Gauge<'namespace'>;

  constructor(registry: Registry) {
    const registers = [registry];
    this.requests = new Counter({
      name: 'kubedlp_webhook_requests_total',
      help: 'Admission requests answered, by result: injected, skipped (no change), denied (refused with a message), error.',
      labelNames: ['result'],
      registers,
    });
    this.injections = new Counter({
      name: 'kubedlp_webhook_injections_total',
      help: 'Pods the webhook injected (or completed, after another webhook added a container).',
      registers,
    });
    this.skips = new Counter({
      name: 'kubedlp_webhook_skips_total',
      help: 'Pods left unchanged, by the reason the injection decision gave.',
      labelNames: ['reason'],
      registers,
    });
    this.failures = new Counter({
      name: 'kubedlp_webhook_failures_total',
      help: 'Requests refused or failed, by reason (HTTP errors, undecodable reviews, exceptions, denials).',
      labelNames: ['reason'],
      registers,
    });
    this.duration = new Histogram({
      name: 'kubedlp_webhook_duration_seconds',
      help: 'Time from receiving an admission request to sending the answer.',
      buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.02, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
      registers,
    });
    this.podsMissingSidecar = new Gauge({
      name: 'kubedlp_pods_missing_sidecar',
      help: 'Pods in opted-in namespaces running without the kube-dlp sidecar (started before opt-in, or admitted while the webhook was unavailable).',
      labelNames: ['namespace'],
      registers,
    });
    this.exemptions = new Counter({
      name: 'kubedlp_webhook_exemptions_total',
      help: 'Pods admitted without the sidecar in a Protect namespace under an exemption the profile grants, by namespace and exemption.',
      labelNames: ['namespace', 'exemption'],
      registers,
    });
    this.podsOrphanedSidecar = new Gauge({
      name: 'kubedlp_pods_orphaned_sidecar',
      help: 'Pods still running the kube-dlp sidecar in namespaces that opted out (its ConfigMaps are removed): restart their workloads.',
      labelNames: ['namespace'],
      registers,
    });
    this.podsProfileMissing = new Gauge({
      name: 'kubedlp_pods_profile_missing',
      help: "Pods running the kube-dlp sidecar in opted-in namespaces whose profile is gone (its rendering is removed): recreate the profile or opt the namespace out.",
      labelNames: ['namespace'],
      registers,
    });
    // Zero series for the closed label sets, so rate() and absent() work from the start.
    for (const result of REQUEST_RESULTS) this.requests.inc({ result }, 0);
    for (const reason of SKIP_REASONS) this.skips.inc({ reason }, 0);
    for (const reason of FAILURE_REASONS) this.failures.inc({ reason }, 0);
  }
}
