// The current tenant directory, rebuilt from the caches when something it
// depends on changes. Every opted-in namespace holds a copy, so a change
// costs one write per namespace. Rebuilds therefore wait for a quiet period
// *and* for the namespace queue to drain (the previous fan-out absorbed),
// bounded by a maximum delay: a burst of changes (a thousand namespaces
// opting in, a Deployment rolling) costs a few fan-outs, paced by how fast
// the API server takes the writes, rather than one per event.
import { SYSTEM_NAMESPACES } from '../api/names';
import { buildTenantDirectory, renderTenantDirectory } from '../decide/tenant-directory';
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

export interface PublishedDirectory {
  text: string;
  hash: string;
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
  /**
   * After each rebuild: `changed` when the content differs from the last
   * published one; `deferred` lists namespaces whose copy was left stale
   * while a rebuild was pending (see defer()), to be reconciled again now.
   */
  onRebuilt(dir: PublishedDirectory, changed: boolean, deferred: readonly string[]): void;
}

export class DirectoryPublisher {
  private published?: PublishedDirectory;
  private quietTimer?: NodeJS.Timeout;
  private deadlineTimer?: NodeJS.Timeout;
  private pendingSince?: number;
  private readonly deferred = new Set<string>();
  private stopped = false;

  constructor(
    private readonly caches: DirectorySources,
    private readonly opts: DirectoryPublisherOptions,
  ) {}

  /** The last published directory (built on first use). */
  current(): PublishedDirectory {
    return this.published ?? this.rebuild();
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

  /** Rebuilds now; reports whether the content changed. */
  rebuild(): PublishedDirectory {
    clearTimeout(this.quietTimer);
    clearTimeout(this.deadlineTimer);
    this.quietTimer = this.deadlineTimer = undefined;
    this.pendingSince = undefined;
    const managed = managedNamespaces(this.caches.namespaces, this.opts.ctx);
    const clusterNetworks = [...(this.opts.extraClusterNetworks ?? [])];
    for (const sc of this.caches.serviceCIDRs.values()) clusterNetworks.push(...sc.cidrs);
    const text = renderTenantDirectory(
      buildTenantDirectory({
        tenants: new Map(managed.map((m) => [m.name, m.tenant])),
        sharedNamespaces: [SYSTEM_NAMESPACES[0]!],
        services: this.caches.services.values(),
        pods: this.caches.pods.values(),
        clusterNetworks,
      }),
    );
    const hash = contentHash(text);
    const changed = this.published?.hash !== hash;
    this.published = changed ? { text, hash, managed } : { ...this.published!, managed };
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
