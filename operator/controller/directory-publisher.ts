// The tenant directories, rebuilt from the caches when something they
// depend on changes. Each opted-in namespace holds its own copy (its tenant,
// the shared namespaces its profile selects; see decide/tenant-directory.ts),
// and namespaces with the same tenant and shared set share one rendering.
// Rebuilds wait for a quiet period *and* for the namespace queue to drain (the
// previous fan-out absorbed), bounded by a maximum delay: a burst of changes
// (a thousand namespaces opting in, a Deployment rolling) costs a few
// fan-outs, paced by how fast the API server takes the writes, rather than
// one per event. A rebuild hands back only the namespaces whose copy changed.
import { SYSTEM_NAMESPACES } from '../api/names';
import { buildTenantDirectory, renderTenantDirectory, type DirectoryInputs } from '../decide/tenant-directory';
import { DEFAULT_SHARED_SELECTORS, selectNamespaces, type NamespaceSelector } from '../decide/shared-namespaces';
import type { OptInContext } from '../decide/opt-in';
import { contentHash } from '../model/views';
import type { NamespaceView, PodView, ServiceView } from '../model/views';
import type { ServiceCidrView } from './caches';
import { managedNamespaces, type ManagedNamespace } from './managed-namespaces';

/** What the directory is built from (the informers, or plain lists in tests). */
export interface DirectorySources {
  namespaces: { values(): Iterable<NamespaceView> };
  services: { values(): Iterable<ServiceView> };
  pods: { values(): Iterable<PodView> };
  serviceCIDRs: { values(): Iterable<ServiceCidrView> };
}

/** One namespace's tenants.yaml. */
export interface DirectoryCopy {
  text: string;
  hash: string;
}

export interface PublishedDirectory {
  /** The copy of each opted-in namespace as last built. */
  copies: ReadonlyMap<string, DirectoryCopy>;
  managed: readonly ManagedNamespace[];
}

export interface DirectoryPublisherOptions {
  ctx: OptInContext;
  /** Ranges given by flag, added to those read from ServiceCIDR objects. */
  extraClusterNetworks?: readonly string[];
  /** Rebuild after this long without further changes... Default 500 ms. */
  quietMs?: number;
  /** ...and once nothing else is queued, but no later than this after the first unpublished change. Default 10 s. */
  maxDelayMs?: number;
  /** True while the namespace queue has work; rebuilds wait for it (up to maxDelayMs). */
  busy?(): boolean;
  /** The namespace's profile's tenancy.sharedNamespaces. Default: the schema default (label kubedlp.io/shared=true). */
  sharedSelectorsOf?(namespace: ManagedNamespace): readonly NamespaceSelector[];
  /**
   * After each rebuild: `changed` lists the namespaces whose copy differs
   * from the last one built for them; `deferred` those whose copy was left
   * stale while a rebuild was pending (see defer()). Both are to be
   * reconciled again now.
   */
  onRebuilt(dir: PublishedDirectory, changed: readonly string[], deferred: readonly string[]): void;
}

/** The caches as one rebuild saw them. */
interface Snapshot {
  inputs: DirectoryInputs & { services: ServiceView[]; pods: PodView[] };
  namespaces: NamespaceView[];
  /** Renderings by view (tenant and shared set), for this snapshot only. */
  renderings: Map<string, DirectoryCopy>;
}

export class DirectoryPublisher {
  private published?: { copies: Map<string, DirectoryCopy>; managed: readonly ManagedNamespace[] };
  private snapshot?: Snapshot;
  private quietTimer?: NodeJS.Timeout;
  private deadlineTimer?: NodeJS.Timeout;
  private pendingSince?: number;
  private readonly deferred = new Set<string>();
  private stopped = false;

  constructor(
    private readonly caches: DirectorySources,
    private readonly opts: DirectoryPublisherOptions,
  ) {}

  /** The last published directories (built on first use). */
  current(): PublishedDirectory {
    return this.published ?? this.rebuild();
  }

  /**
   * The namespace's copy from the last snapshot, with its profile's shared
   * namespaces as they are now (a profile edit needs no rebuild).
   */
  copyFor(namespace: ManagedNamespace): DirectoryCopy {
    // A namespace that opted in or changed tenant since the last snapshot
    // would be missing from its own copy (its own Pods then unknown): take a
    // fresh one, which also hands back every copy the change affects.
    if (this.snapshot?.inputs.tenants.get(namespace.name) !== namespace.tenant) this.rebuild();
    const snap = this.snapshot!;
    const shared = selectNamespaces(this.opts.sharedSelectorsOf?.(namespace) ?? DEFAULT_SHARED_SELECTORS, snap.namespaces);
    const key = `${namespace.tenant}\u0000${shared.join(',')}`;
    let copy = snap.renderings.get(key);
    if (!copy) {
      const text = renderTenantDirectory(buildTenantDirectory(snap.inputs, { tenant: namespace.tenant, sharedNamespaces: shared }));
      copy = { text, hash: contentHash(text) };
      snap.renderings.set(key, copy);
    }
    this.published?.copies.set(namespace.name, copy);
    return copy;
  }

  /** A change the directory has not absorbed yet is waiting. */
  get pending(): boolean {
    return this.pendingSince !== undefined;
  }

  /**
   * A namespace kept its (existing, stale) copy because a rebuild is pending:
   * it is handed back by the next rebuild whether or not the content changed.
   */
  defer(namespace: string): void {
    this.deferred.add(namespace);
  }

  /** Something the directory depends on changed. */
  invalidate(): void {
    if (this.stopped) return;
    this.pendingSince ??= Date.now();
    this.scheduleQuiet();
    if (!this.deadlineTimer) {
      this.deadlineTimer = setTimeout(() => this.flush(true), this.opts.maxDelayMs ?? 10_000);
      this.deadlineTimer.unref();
    }
  }

  /** Rebuilds every opted-in namespace's copy now; reports those that changed. */
  rebuild(): PublishedDirectory {
    clearTimeout(this.quietTimer);
    clearTimeout(this.deadlineTimer);
    this.quietTimer = this.deadlineTimer = undefined;
    this.pendingSince = undefined;
    const namespaces = [...this.caches.namespaces.values()];
    const managed = managedNamespaces(namespaces, this.opts.ctx);
    const clusterNetworks = [...(this.opts.extraClusterNetworks ?? [])];
    for (const sc of this.caches.serviceCIDRs.values()) clusterNetworks.push(...sc.cidrs);
    this.snapshot = {
      inputs: {
        tenants: new Map(managed.map((m) => [m.name, m.tenant])),
        sharedNamespaces: [SYSTEM_NAMESPACES[0]!],
        services: [...this.caches.services.values()],
        pods: [...this.caches.pods.values()],
        clusterNetworks,
      },
      namespaces,
      renderings: new Map(),
    };
    const previous = this.published?.copies;
    this.published = { copies: new Map(), managed };
    const changed: string[] = [];
    for (const m of managed) {
      if (this.copyFor(m).hash !== previous?.get(m.name)?.hash) changed.push(m.name);
    }
    const deferred = [...this.deferred];
    this.deferred.clear();
    if (!this.stopped) this.opts.onRebuilt(this.published, changed, deferred);
    return this.published;
  }

  stop(): void {
    this.stopped = true;
    clearTimeout(this.quietTimer);
    clearTimeout(this.deadlineTimer);
  }

  private scheduleQuiet(): void {
    clearTimeout(this.quietTimer);
    this.quietTimer = setTimeout(() => this.flush(false), this.opts.quietMs ?? 500);
    this.quietTimer.unref();
  }

  private flush(deadline: boolean): void {
    if (this.stopped || this.pendingSince === undefined) return;
    // Quiet, but the last fan-out is still being written: wait for it (the deadline does not).
    if (!deadline && this.opts.busy?.()) return this.scheduleQuiet();
    this.rebuild();
  }
}
