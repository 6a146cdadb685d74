// Wires caches, queues and reconcilers: every watch event becomes "this
// namespace (or profile) may be out of date" on a work queue, never an
// instruction. Workers run the level-based reconcilers; errors back off per
// key, terminal ones are reported and dropped.
import { KubeApiError, OperatorError, TerminalReconcileError } from '../errors';
import type { OptInContext } from '../decide/opt-in';
import { profileKey, resolveProfile } from '../decide/resolve-profile';
import { sharedSelectorsOf } from '../decide/shared-namespaces';
import type { KubeClient } from '../kube/client';
import type { EventSink } from '../kube/events';
import type { Logger } from '../kube/logger';
import { WorkQueue } from '../kube/work-queue';
import type { Controller as ControllerLabel, OperatorMetrics } from '../metrics/operator-metrics';
import type { NamespaceView, ProfileView } from '../model/views';
import { decideOptIn } from '../decide/opt-in';
import type { ProfileValidator } from '../validation/profile-validator';
import { ClusterCaches } from './caches';
import { DirectoryPublisher } from './directory-publisher';
import { managedNamespaces } from './managed-namespaces';
import { NamespaceReconciler } from './namespace-reconciler';
import { ProfileStatusReconciler } from './profile-status-reconciler';
import type { TenantCaStore } from '../tls-ca/tenant-ca-store';
import { TenantCaSweeper } from '../tls-ca/tenant-ca-sweeper';

export interface ControllerOptions {
  client: KubeClient;
  validator: ProfileValidator;
  events: EventSink;
  metrics: OperatorMetrics;
  log: Logger;
  ctx: OptInContext;
  /** Namespace reconciles in parallel. Default 8. */
  concurrency?: number;
  extraClusterNetworks?: readonly string[];
  directoryQuietMs?: number;
  directoryMaxDelayMs?: number;
  /** Profile statuses are recomputed this long after a change that affects counts (coalescing bursts). Default 1 s. */
  statusDelayMs?: number;
  /** Tenant interception CAs (created on first need, rotated, removed with the tenant). */
  tenantCa?: TenantCaStore;
  /** How often every managed namespace is reconciled again, so CA rotation steps happen without an event. Default 10 min. */
  tenantCaCheckMs?: number;
}

export class OperatorController {
  readonly caches: ClusterCaches;
  readonly namespaceQueue = new WorkQueue('namespaces');
  readonly profileQueue = new WorkQueue('profiles');
  readonly directory: DirectoryPublisher;
  private readonly namespaces: NamespaceReconciler;
  private readonly statuses: ProfileStatusReconciler;
  private workers?: Promise<unknown>;
  private depthTimer?: NodeJS.Timeout;
  private caTimer?: NodeJS.Timeout;
  private readonly caSweeper?: TenantCaSweeper;
  private started = false;

  constructor(private readonly opts: ControllerOptions) {
    this.caches = new ClusterCaches(opts.client, opts.log);
    this.directory = new DirectoryPublisher(this.caches, {
      ctx: opts.ctx,
      extraClusterNetworks: opts.extraClusterNetworks,
      quietMs: opts.directoryQuietMs,
      maxDelayMs: opts.directoryMaxDelayMs,
      busy: () => this.namespaceQueue.length > 0 || this.namespaceQueue.inProcess > 0,
      sharedSelectorsOf: (m) => sharedSelectorsOf(resolveProfile(m.name, m.profileName, this.caches)?.spec),
      onRebuilt: (dir, changed, deferred) => {
        opts.metrics.managedNamespaces.set(dir.managed.length);
        for (const ns of [...changed, ...deferred]) this.namespaceQueue.add(ns);
      },
    });
    const deps = { client: opts.client, caches: this.caches, validator: opts.validator, events: opts.events, ctx: opts.ctx };
    this.namespaces = new NamespaceReconciler({ ...deps, directory: this.directory, log: opts.log, tenantCa: opts.tenantCa });
    if (opts.tenantCa) this.caSweeper = new TenantCaSweeper(opts.client, opts.ctx.operatorNamespace, opts.tenantCa, opts.log);
    this.statuses = new ProfileStatusReconciler({ ...deps, metrics: opts.metrics });
    this.wire();
  }

  /** True once the caches are synced and workers run. */
  get ready(): boolean {
    return this.started && this.caches.synced;
  }

  /** Nothing queued or in flight (tests and the benchmark wait for this). */
  get idle(): boolean {
    return this.namespaceQueue.idle && this.profileQueue.idle;
  }

  async start(): Promise<void> {
    await this.caches.start();
    this.directory.rebuild();
    this.opts.metrics.managedNamespaces.set(this.directory.current().managed.length);
    // Every namespace, not only opted-in ones: a namespace that opted out while
    // the operator was down still carries its labels and objects.
    for (const ns of this.caches.namespaces.values()) this.namespaceQueue.add(ns.name);
    for (const p of this.caches.profiles()) this.profileQueue.add(profileKey(p));
    const concurrency = this.opts.concurrency ?? 8;
    this.workers = Promise.all([
      this.namespaceQueue.run(concurrency, (key) => this.process('namespace', this.namespaceQueue, key, () => this.reconcileNamespace(key))),
      this.profileQueue.run(2, (key) => this.process('profile-status', this.profileQueue, key, () => this.statuses.reconcile(key))),
    ]);
    this.depthTimer = setInterval(() => {
      this.opts.metrics.queueDepth.set({ queue: 'namespaces' }, this.namespaceQueue.length);
      this.opts.metrics.queueDepth.set({ queue: 'profiles' }, this.profileQueue.length);
    }, 1000);
    this.depthTimer.unref();
    if (this.caSweeper) {
      // CA rotation is a matter of time, not of events: look again now and then.
      this.caTimer = setInterval(() => void this.checkTenantCas(), this.opts.tenantCaCheckMs ?? 10 * 60_000);
      this.caTimer.unref();
    }
    this.started = true;
  }

  /** Stops watching and hands out no more work; resolves when in-flight reconciles finished. */
  async stop(): Promise<void> {
    this.started = false;
    clearInterval(this.depthTimer);
    clearInterval(this.caTimer);
    this.directory.stop();
    this.caches.stop();
    this.namespaceQueue.shutDown();
    this.profileQueue.shutDown();
    await this.workers;
  }

  /** Every managed namespace once more (rotation steps), then the CAs of tenants that are gone. */
  async checkTenantCas(): Promise<void> {
    if (!this.caches.synced) return;
    const managed = [...managedNamespaces(this.caches.namespaces, this.opts.ctx)];
    for (const m of managed) this.namespaceQueue.add(m.name);
    try {
      await this.caSweeper?.sweep(new Set(managed.map((m) => m.tenant)));
    } catch (err) {
      this.opts.log.warn({ err: (err as Error).message }, 'tenant CA cleanup failed; retrying at the next check');
    }
  }

  private async reconcileNamespace(name: string): Promise<void> {
    const outcome = await this.namespaces.reconcile(name);
    if (outcome.writes.length > 0) {
      this.opts.log.info({ namespace: name, decision: outcome.decision, reason: outcome.reason, writes: outcome.writes }, 'reconciled namespace');
    } else {
      this.opts.log.debug({ namespace: name, decision: outcome.decision, reason: outcome.reason }, 'namespace up to date');
    }
  }

  private async process(controller: ControllerLabel, queue: WorkQueue, key: string, run: () => Promise<unknown>): Promise<void> {
    const { metrics, log } = this.opts;
    const end = metrics.reconcileDuration.startTimer({ controller });
    try {
      await run();
      queue.forget(key);
      metrics.reconciles.inc({ controller, result: 'success' });
    } catch (err) {
      const code = err instanceof OperatorError ? err.code : 'INTERNAL';
      metrics.reconcileErrors.inc({ controller, code });
      if (isTerminal(err)) {
        queue.forget(key);
        metrics.reconciles.inc({ controller, result: 'terminal' });
        log.warn({ controller, key, err: (err as Error).message }, 'reconcile failed for good; not retried until its inputs change');
      } else {
        const delay = queue.addRateLimited(key);
        metrics.reconciles.inc({ controller, result: 'error' });
        log.warn({ controller, key, err: err instanceof Error ? err.message : String(err), retryInMs: delay }, 'reconcile failed; retrying');
      }
    } finally {
      end();
    }
  }

  /** Watch events -> queue keys. */
  private wire(): void {
    const c = this.caches;
    const statusDelay = this.opts.statusDelayMs ?? 1000;
    const allProfilesSoon = () => {
      for (const p of c.profiles()) this.profileQueue.addAfter(profileKey(p), statusDelay);
    };

    const membership = (ns: NamespaceView | undefined): string => {
      if (!ns) return '';
      const d = decideOptIn(ns, this.opts.ctx);
      return d.kind === 'opted-in' ? `${d.tenant}\u0000${d.profileName}` : d.kind;
    };
    c.namespaces.onChange((ch) => {
      this.namespaceQueue.add(ch.view.name);
      // Label writes (ours) and unrelated edits change neither the directory nor any count...
      if (ch.type === 'update' && membership(ch.previous) === membership(ch.view)) {
        // ...but any label may be what a profile's tenancy.sharedNamespaces selects.
        if (!sameLabels(ch.previous?.labels, ch.view.labels)) this.directory.invalidate();
        return;
      }
      this.directory.invalidate();
      allProfilesSoon();
    });

    const onProfile = (ch: { type: string; view: ProfileView; previous?: ProfileView }) => {
      const p = ch.view;
      this.profileQueue.add(profileKey(p));
      if (ch.type === 'delete') this.opts.validator.forget(p.uid);
      // Status writes (ours) change the view too; only the spec matters to namespaces.
      if (ch.type === 'update' && ch.previous?.generation === p.generation && ch.previous.uid === p.uid) return;
      if (p.namespace !== undefined) {
        this.namespaceQueue.add(p.namespace);
        return;
      }
      for (const m of managedNamespaces(c.namespaces, this.opts.ctx)) if (m.profileName === p.name) this.namespaceQueue.add(m.name);
    };
    c.securityProfiles.onChange(onProfile);
    c.clusterSecurityProfiles.onChange(onProfile);

    for (const [cache, writer] of [
      [c.configMaps, this.namespaces.configMaps],
      [c.networkPolicies, this.namespaces.networkPolicies],
    ] as const) {
      cache.onChange((ch) => {
        // Our own apply coming back is not news; anything else (an edit, a delete) is.
        if (writer.observe(ch)) return;
        this.namespaceQueue.add(ch.view.namespace);
      });
    }

    c.services.onChange((ch) => {
      if (ch.type !== 'update' || ch.previous?.clusterIPs.join() !== ch.view.clusterIPs.join()) this.directory.invalidate();
    });
    c.pods.onChange((ch) => {
      if (ch.type !== 'update' || ch.previous?.ips.join() !== ch.view.ips.join()) this.directory.invalidate();
      if (ch.type !== 'update' || ch.previous?.injected !== ch.view.injected) allProfilesSoon();
    });
    c.serviceCIDRs.onChange(() => this.directory.invalidate());
  }
}

/**
 * Errors that the same inputs will always produce: retrying them only adds
 * load. The key is reconciled again when one of its inputs changes (a watch
 * event), which is the only thing that can make it succeed.
 * - TerminalReconcileError: raised for that purpose;
 * - 400, 413, 422 from the API server: the object we sent is malformed, too
 *   large (a tenant directory beyond the 1 MiB object limit) or invalid.
 */
function isTerminal(err: unknown): boolean {
  if (err instanceof TerminalReconcileError) return true;
  return err instanceof KubeApiError && (err.status === 400 || err.status === 413 || err.status === 422);
}

function sameLabels(a: Readonly<Record<string, string>> | undefined, b: Readonly<Record<string, string>>): boolean {
  const keys = Object.keys(b);
  return a !== undefined && Object.keys(a).length === keys.length && keys.every((k) => a[k] === b[k]);
}
