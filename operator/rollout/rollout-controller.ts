// Pods running without the sidecar in opted-in namespaces (started before
// the namespace opted in, or admitted while the webhook was unavailable
// under failurePolicy Ignore): counted in kubedlp_pods_missing_sidecar,
// reported with Events, and, when the namespace says kubedlp.io/rollout:
// auto, replaced by restarting their Deployment, StatefulSet or DaemonSet the
// way `kubectl rollout restart` does. Pods left behind by a namespace's
// lifecycle are reported too: after an opt-out (their sidecar's ConfigMaps
// are gone; restarted under rollout: auto, to come back without it) and after
// their profile is deleted (reported only: the webhook refuses their
// replacements until a profile exists again). Runs on the leader only; level-based: a
// sweep reads the caches and acts on what it finds.
import { ANNOTATION_PROFILE_STATUS, PROFILE_STATUS_MISSING_PREFIX } from '../api/names';
import { decideOptIn, type OptInContext } from '../decide/opt-in';
import { KubeApiError } from '../errors';
import { ANNOTATION_ROLLOUT, ROLLOUT_AUTO, ROLLOUT_MANUAL } from '../inject/names';
import type { KubeClient } from '../kube/client';
import type { EventSink } from '../kube/events';
import type { Informer } from '../kube/informer';
import type { Logger } from '../kube/logger';
import { type ResourceType, DAEMON_SETS, DEPLOYMENTS, REPLICA_SETS, STATEFUL_SETS } from '../kube/resources';
import type { NamespaceView } from '../model/views';
import type { WebhookMetrics } from '../webhook/metrics';
import { groupByOwner, needsRestart, podsMissingSidecar, podsOrphaned, podsProfileMissing, RESTARTED_AT_ANNOTATION, type OwnerGroup } from './missing-sidecar';
import type { RolloutPodView } from './pod-view';
import { WindowRateLimiter } from './rate-limiter';

export const EVENT_SIDECAR_MISSING = 'SidecarMissing';
export const EVENT_PODS_MISSING_SIDECAR = 'PodsMissingSidecar';
export const EVENT_ROLLOUT_RESTARTED = 'SidecarRolloutRestarted';
export const EVENT_INVALID_ROLLOUT = 'InvalidAnnotations';
export const EVENT_PODS_ORPHANED = 'PodsOrphanedSidecar';
export const EVENT_PODS_PROFILE_MISSING = 'PodsProfileMissing';
const MAX_POD_EVENTS_PER_SWEEP = 20;

export interface RolloutControllerOptions {
  client: KubeClient;
  events: EventSink;
  metrics: WebhookMetrics;
  log: Logger;
  optIn: OptInContext;
  namespaces: Informer<NamespaceView>;
  pods: Informer<RolloutPodView>;
  /** Restarts per namespace per minute. Default 2. */
  maxRestartsPerMinute?: number;
  /** Time between full sweeps. Default 30 s. */
  intervalMs?: number;
  /** A change in the caches triggers a sweep this much later (coalescing bursts). Default 2 s. */
  debounceMs?: number;
  now?: () => number;
}

export interface SweepReport {
  /** Namespace -> pods missing the sidecar. */
  missing: Map<string, number>;
  /** Namespace (opted out) -> pods still running the sidecar. */
  orphaned: Map<string, number>;
  /** Namespace (opted in, profile gone) -> pods running the sidecar. */
  profileMissing: Map<string, number>;
  /** "Kind namespace/name" of workloads restarted in this sweep. */
  restarted: string[];
  /** Workloads that need a restart but wait for the namespace's rate limit. */
  deferred: string[];
}

interface Workload {
  resource: ResourceType;
  name: string;
}

export class RolloutController {
  private readonly limiter: WindowRateLimiter;
  private readonly now: () => number;
  private timer?: NodeJS.Timeout;
  private debounce?: NodeJS.Timeout;
  private sweeping?: Promise<SweepReport>;
  private again = false;
  private stopped = true;
  private reported = new Set<string>();
  private reportedOrphans = new Set<string>();
  private reportedProfileMissing = new Set<string>();

  constructor(private readonly opts: RolloutControllerOptions) {
    this.limiter = new WindowRateLimiter(opts.maxRestartsPerMinute ?? 2, 60_000);
    this.now = opts.now ?? Date.now;
    const soon = () => this.schedule();
    opts.pods.onChange(soon);
    opts.namespaces.onChange(soon);
  }

  /** The caches must be started (synced) by the caller. */
  start(): void {
    this.stopped = false;
    this.timer = setInterval(() => this.schedule(0), this.opts.intervalMs ?? 30_000);
    this.timer.unref();
    this.schedule(0);
  }

  stop(): void {
    this.stopped = true;
    clearInterval(this.timer);
    clearTimeout(this.debounce);
    for (const ns of this.reported) this.opts.metrics.podsMissingSidecar.remove({ namespace: ns });
    for (const ns of this.reportedOrphans) this.opts.metrics.podsOrphanedSidecar.remove({ namespace: ns });
    for (const ns of this.reportedProfileMissing) this.opts.metrics.podsProfileMissing.remove({ namespace: ns });
    this.reported.clear();
    this.reportedOrphans.clear();
    this.reportedProfileMissing.clear();
  }

  private schedule(delay = this.opts.debounceMs ?? 2000): void {
    if (this.stopped) return;
    if (this.debounce && delay > 0) return;
    clearTimeout(this.debounce);
    this.debounce = setTimeout(() => {
      this.debounce = undefined;
      this.sweep().catch((err: unknown) => this.opts.log.warn({ err: (err as Error).message }, 'sidecar rollout sweep failed'));
    }, delay);
    this.debounce.unref();
  }

  /** One pass over every opted-in namespace; passes never overlap (one asked during a pass runs after it). */
  async sweep(): Promise<SweepReport> {
    if (this.sweeping) {
      this.again = true;
      return this.sweeping;
    }
    this.sweeping = this.sweepOnce().finally(() => {
      this.sweeping = undefined;
      if (this.again && !this.stopped) {
        this.again = false;
        this.schedule(0);
      }
    });
    return this.sweeping;
  }

  private async sweepOnce(): Promise<SweepReport> {
    const { namespaces, pods, metrics, events, optIn } = this.opts;
    const optedIn = (name: string) => {
      const ns = namespaces.get(name);
      return ns !== undefined && decideOptIn(ns, optIn).kind === 'opted-in';
    };
    const missing = podsMissingSidecar(pods.values(), optedIn);
    const report: SweepReport = { missing: new Map(), orphaned: new Map(), profileMissing: new Map(), restarted: [], deferred: [] };

    for (const ns of this.reported) if (!missing.has(ns)) metrics.podsMissingSidecar.remove({ namespace: ns });
    this.reported = new Set(missing.keys());

    for (const [nsName, list] of missing) {
      report.missing.set(nsName, list.length);
      metrics.podsMissingSidecar.set({ namespace: nsName }, list.length);
      const ns = namespaces.get(nsName)!;
      const shown = list.slice(0, 10).map((p) => p.name).join(', ') + (list.length > 10 ? `, and ${list.length - 10} more` : '');
      const mode = ns.annotations[ANNOTATION_ROLLOUT];
      // events.k8s.io/v1 accepts an Event about a cluster-scoped object only in
      // "default" unless `regarding` names a namespace; naming the namespace
      // itself keeps the Event where `kubectl get events -n NS` shows it.
      const nsTarget = { apiVersion: 'v1', kind: 'Namespace', name: nsName, namespace: nsName, uid: ns.uid };
      events.record(
        nsTarget,
        {
          type: 'Warning',
          reason: EVENT_PODS_MISSING_SIDECAR,
          note:
            `${list.length} pod(s) run without the kube-dlp sidecar: ${shown}. ` +
            (mode === ROLLOUT_AUTO ? 'Their workloads are restarted (kubedlp.io/rollout: auto).' : `Restart their workloads, or set ${ANNOTATION_ROLLOUT}: ${ROLLOUT_AUTO} on the namespace.`),
          action: 'Report',
        },
      );
      // One Event per pod, for `kubectl describe pod`; capped so a large namespace does not flood the API server.
      for (const p of list.slice(0, MAX_POD_EVENTS_PER_SWEEP)) {
        events.record(
          { apiVersion: 'v1', kind: 'Pod', name: p.name, namespace: nsName, uid: p.uid },
          {
            type: 'Warning',
            reason: EVENT_SIDECAR_MISSING,
            note: 'runs without the kube-dlp sidecar (created before its namespace opted in, or while the injection webhook was unavailable); its egress is not inspected until it is recreated',
            action: 'Report',
          },
        );
      }
      if (mode !== undefined && mode !== ROLLOUT_AUTO && mode !== ROLLOUT_MANUAL) {
        events.record(
          nsTarget,
          { type: 'Warning', reason: EVENT_INVALID_ROLLOUT, note: `${ANNOTATION_ROLLOUT} must be "${ROLLOUT_AUTO}" or "${ROLLOUT_MANUAL}"; treated as "${ROLLOUT_MANUAL}"`, action: 'Validate' },
        );
      }
      if (mode === ROLLOUT_AUTO) await this.rollOut(nsName, list, report);
    }
    await this.sweepOrphans(optedIn, report);
    this.sweepProfileMissing(optedIn, report);
    return report;
  }

  /** Opted in, but the profile is gone: reported, never restarted (the webhook would refuse the replacements). */
  private sweepProfileMissing(optedIn: (name: string) => boolean, report: SweepReport): void {
    const { namespaces, pods, metrics, events } = this.opts;
    const status = (name: string) => namespaces.get(name)?.annotations[ANNOTATION_PROFILE_STATUS] ?? '';
    const stranded = podsProfileMissing(pods.values(), (name) => optedIn(name) && status(name).startsWith(PROFILE_STATUS_MISSING_PREFIX));
    for (const ns of this.reportedProfileMissing) if (!stranded.has(ns)) metrics.podsProfileMissing.remove({ namespace: ns });
    this.reportedProfileMissing = new Set(stranded.keys());
    for (const [nsName, list] of stranded) {
      report.profileMissing.set(nsName, list.length);
      metrics.podsProfileMissing.set({ namespace: nsName }, list.length);
      const ns = namespaces.get(nsName)!;
      const shown = list.slice(0, 10).map((p) => p.name).join(', ') + (list.length > 10 ? `, and ${list.length - 10} more` : '');
      events.record(
        { apiVersion: 'v1', kind: 'Namespace', name: nsName, namespace: nsName, uid: ns.uid },
        {
          type: 'Warning',
          reason: EVENT_PODS_PROFILE_MISSING,
          note:
            `${list.length} pod(s) run the kube-dlp sidecar but the namespace's profile is gone (${status(nsName).slice(PROFILE_STATUS_MISSING_PREFIX.length)}): ${shown}. ` +
            'Their sidecars keep the rules they last loaded; a restarted one cannot start, and new pods are refused, so they are not restarted ' +
            `(not even under ${ANNOTATION_ROLLOUT}: ${ROLLOUT_AUTO}). Recreate the profile, name another with kubedlp.io/profile, or opt the namespace out.`,
          action: 'Report',
        },
      );
    }
  }

  /** After an opt-out: pods whose sidecar lost its ConfigMaps are reported, and replaced (without it) under rollout: auto. */
  private async sweepOrphans(optedIn: (name: string) => boolean, report: SweepReport): Promise<void> {
    const { namespaces, pods, metrics, events } = this.opts;
    const orphaned = podsOrphaned(pods.values(), optedIn, (name) => namespaces.get(name) !== undefined);
    for (const ns of this.reportedOrphans) if (!orphaned.has(ns)) metrics.podsOrphanedSidecar.remove({ namespace: ns });
    this.reportedOrphans = new Set(orphaned.keys());
    for (const [nsName, list] of orphaned) {
      report.orphaned.set(nsName, list.length);
      metrics.podsOrphanedSidecar.set({ namespace: nsName }, list.length);
      const ns = namespaces.get(nsName)!;
      const auto = ns.annotations[ANNOTATION_ROLLOUT] === ROLLOUT_AUTO;
      const shown = list.slice(0, 10).map((p) => p.name).join(', ') + (list.length > 10 ? `, and ${list.length - 10} more` : '');
      events.record(
        { apiVersion: 'v1', kind: 'Namespace', name: nsName, namespace: nsName, uid: ns.uid },
        {
          type: 'Warning',
          reason: EVENT_PODS_ORPHANED,
          note:
            `${list.length} pod(s) still run the kube-dlp sidecar although the namespace no longer opts in: ${shown}. ` +
            'Their profile and tenant ConfigMaps are removed, so a restarted sidecar cannot start. ' +
            (auto ? 'Their workloads are restarted (kubedlp.io/rollout: auto).' : `Restart their workloads, or set ${ANNOTATION_ROLLOUT}: ${ROLLOUT_AUTO} on the namespace.`),
          action: 'Report',
        },
      );
      if (auto) await this.rollOut(nsName, list, report);
    }
  }

  private async rollOut(namespace: string, list: readonly RolloutPodView[], report: SweepReport): Promise<void> {
    const { groups } = groupByOwner(list);
    const seen = new Set<string>();
    for (const g of groups) {
      let workload: Workload | undefined;
      try {
        workload = await this.workloadOf(namespace, g);
      } catch (err) {
        this.opts.log.warn({ namespace, owner: `${g.kind}/${g.name}`, err: (err as Error).message }, 'cannot resolve the workload of pods missing the sidecar');
        continue;
      }
      if (!workload) continue;
      const id = `${workload.resource.kind} ${namespace}/${workload.name}`;
      if (seen.has(id)) continue;
      seen.add(id);
      try {
        const current = await this.opts.client.get<{ metadata: { uid?: string }; spec?: { template?: { metadata?: { annotations?: Record<string, string> } } } }>(
          workload.resource,
          workload.name,
          namespace,
        );
        if (!needsRestart(current.spec?.template?.metadata?.annotations, g.oldestCreatedAt)) continue;
        if (!this.limiter.tryTake(namespace, this.now())) {
          report.deferred.push(id);
          continue;
        }
        const restartedAt = new Date(this.now()).toISOString();
        await this.opts.client.mergePatch(workload.resource, workload.name, namespace, {
          spec: { template: { metadata: { annotations: { [RESTARTED_AT_ANNOTATION]: restartedAt } } } },
        });
        report.restarted.push(id);
        this.opts.log.info({ workload: id, pods: g.pods.length }, 'restarted workload to bring its pods in line with the namespace');
        this.opts.events.record(
          { apiVersion: 'apps/v1', kind: workload.resource.kind, name: workload.name, namespace, uid: current.metadata.uid },
          {
            type: 'Normal',
            reason: EVENT_ROLLOUT_RESTARTED,
            note: g.pods[0]?.injected
              ? `restarted (${RESTARTED_AT_ANNOTATION}=${restartedAt}) so that ${g.pods.length} pod(s) whose kube-dlp sidecar lost its ConfigMaps (the namespace opted out) are replaced`
              : `restarted (${RESTARTED_AT_ANNOTATION}=${restartedAt}) so that ${g.pods.length} pod(s) without the kube-dlp sidecar are replaced by injected ones`,
            action: 'Restart',
          },
        );
      } catch (err) {
        if (err instanceof KubeApiError && err.notFound) continue;
        this.opts.log.warn({ workload: id, err: (err as Error).message }, 'restart failed; retried next sweep');
      }
    }
    if (report.deferred.length > 0) {
      this.opts.log.info({ namespace, deferred: report.deferred.length }, 'restarts deferred by the per-namespace rate limit');
      const wait = Math.max(1000, this.limiter.nextSlot(namespace, this.now()) - this.now());
      setTimeout(() => this.schedule(0), wait).unref();
    }
  }

  private async workloadOf(namespace: string, g: OwnerGroup): Promise<Workload | undefined> {
    if (g.kind === 'StatefulSet') return { resource: STATEFUL_SETS, name: g.name };
    if (g.kind === 'DaemonSet') return { resource: DAEMON_SETS, name: g.name };
    // A ReplicaSet of a Deployment: restarting the ReplicaSet would do nothing useful.
    const rs = await this.opts.client.get<{ metadata: { ownerReferences?: { kind?: string; name?: string; controller?: boolean }[] } }>(REPLICA_SETS, g.name, namespace);
    const owner = rs.metadata.ownerReferences?.find((r) => r.controller && r.kind === 'Deployment');
    return owner?.name ? { resource: DEPLOYMENTS, name: owner.name } : undefined;
  }
}
