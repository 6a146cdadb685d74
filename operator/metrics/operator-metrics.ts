// Prometheus metrics of the operator, on a registry of its own (the proxy's
// pattern) so embedding it in tests or next to the webhook never collides.
// Labels are closed sets (controller, result, error code) or bounded by the
// number of profiles; never a namespace name, which is unbounded.
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

/** Every metric name this module exports; dashboards and alerts are checked against it. */
export const METRIC_NAMES = [
  'kubedlp_operator_reconciles_total',
  'kubedlp_operator_reconcile_errors_total',
  'kubedlp_operator_reconcile_duration_seconds',
  'kubedlp_operator_managed_namespaces',
  'kubedlp_operator_profiles',
  'kubedlp_operator_rendered_profile_info',
  'kubedlp_operator_leader',
  'kubedlp_operator_workqueue_depth',
] as const;

export type MetricName = (typeof METRIC_NAMES)[number];
export type Controller = 'namespace' | 'profile-status';
export type ReconcileResult = 'success' | 'requeue' | 'error' | 'terminal';

export class OperatorMetrics {
  readonly registry = new Registry();

  readonly reconciles = new Counter<'controller' | 'result'>({
    name: 'kubedlp_operator_reconciles_total',
    help: 'Reconciles by controller and result: success, requeue (asked to run again later), error (retried with backoff), terminal (reported, not retried).',
    labelNames: ['controller', 'result'],
    registers: [this.registry],
  });

  readonly reconcileErrors = new Counter<'controller' | 'code'>({
    name: 'kubedlp_operator_reconcile_errors_total',
    help: 'Reconcile errors by controller and error code (KDLP_KUBE_API, ...).',
    labelNames: ['controller', 'code'],
    registers: [this.registry],
  });

  readonly reconcileDuration = new Histogram<'controller'>({
    name: 'kubedlp_operator_reconcile_duration_seconds',
    help: 'Time spent in one reconcile.',
    labelNames: ['controller'],
    buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
    registers: [this.registry],
  });

  readonly managedNamespaces = new Gauge({
    name: 'kubedlp_operator_managed_namespaces',
    help: 'Namespaces opted in and managed by this operator.',
    registers: [this.registry],
  });

  readonly profiles = new Gauge<'kind' | 'ready'>({
    name: 'kubedlp_operator_profiles',
    help: 'SecurityProfiles and ClusterSecurityProfiles by kind and readiness (true, false, unknown).',
    labelNames: ['kind', 'ready'],
    registers: [this.registry],
  });

  readonly renderedProfileInfo = new Gauge<'kind' | 'namespace' | 'name' | 'version'>({
    name: 'kubedlp_operator_rendered_profile_info',
    help: 'Always 1: the version (generation) of each profile currently rendered into namespaces; namespace is empty for ClusterSecurityProfiles.',
    labelNames: ['kind', 'namespace', 'name', 'version'],
    registers: [this.registry],
  });

  readonly leader = new Gauge({
    name: 'kubedlp_operator_leader',
    help: '1 while this replica holds the leader Lease (or runs without leader election), else 0.',
    registers: [this.registry],
  });

  readonly queueDepth = new Gauge<'queue'>({
    name: 'kubedlp_operator_workqueue_depth',
    help: 'Keys waiting in each work queue.',
    labelNames: ['queue'],
    registers: [this.registry],
  });

  constructor(opts: { processMetrics?: boolean } = {}) {
    // Process metrics (RSS, event-loop lag) under our prefix: the benchmark and alerts read them.
    if (opts.processMetrics) collectDefaultMetrics({ register: this.registry, prefix: 'kubedlp_operator_' });
  }

  get contentType(): string {
    return this.registry.contentType;
  }

  render(): Promise<string> {
    return this.registry.metrics();
  }
}
