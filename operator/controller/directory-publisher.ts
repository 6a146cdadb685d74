// The current tenant directory, rebuilt from the caches when something it
// depends on changes. Every opted-in namespace holds a copy, so a change
// means one write per namespace: rebuilds are debounced (a quiet period,
// bounded by a maximum delay) so that a burst of changes (a thousand
// namespaces opting in, a Deployment rolling) costs a few fan-outs rather
// than one per event.
import { SYSTEM_NAMESPACES } from '../api/names';
import { buildTenantDirectory, renderTenantDirectory } from '../decide/tenant-directory';
import type { OptInContext } from '../decide/opt-in';
import { contentHash } from '../model/views';
import type { ClusterCaches } from './caches';
import { managedNamespaces, type ManagedNamespace } from './managed-namespaces';

export interface PublishedDirectory {
  text: string;
  hash: string;
  managed: readonly ManagedNamespace[];
}

export interface DirectoryPublisherOptions {
  ctx: OptInContext;
  /** Ranges given by flag, added to those read from ServiceCIDR objects. */
  extraClusterNetworks?: readonly string[];
  /** Rebuild after this long without further changes. Default 300 ms. */
  quietMs?: number;
  /** ...but no later than this after the first unpublished change. Default 3 s. */
  maxDelayMs?: number;
  /** Called with the new directory when its content changed. */
  onPublish(dir: PublishedDirectory, previous: PublishedDirectory | undefined): void;
}

export class DirectoryPublisher {
  private published?: PublishedDirectory;
  private quietTimer?: NodeJS.Timeout;
  private deadlineTimer?: NodeJS.Timeout;
  private stopped = false;

  constructor(
    private readonly caches: ClusterCaches,
    private readonly opts: DirectoryPublisherOptions,
  ) {}

  /** The last published directory (built on first use). */
  current(): PublishedDirectory {
    return this.published ?? this.rebuild();
  }

  /** Something the directory depends on changed. */
  invalidate(): void {
    if (this.stopped) return;
    clearTimeout(this.quietTimer);
    this.quietTimer = setTimeout(() => this.flush(), this.opts.quietMs ?? 300);
    this.quietTimer.unref();
    if (!this.deadlineTimer) {
      this.deadlineTimer = setTimeout(() => this.flush(), this.opts.maxDelayMs ?? 3_000);
      this.deadlineTimer.unref();
    }
  }

  /** Rebuilds now; publishes (and notifies) only if the content changed. */
  rebuild(): PublishedDirectory {
    clearTimeout(this.quietTimer);
    clearTimeout(this.deadlineTimer);
    this.quietTimer = this.deadlineTimer = undefined;
    const managed = managedNamespaces(this.caches.namespaces, this.opts.ctx);
    const clusterNetworks = [...(this.opts.extraClusterNetworks ?? [])];
    for (const sc of this.caches.serviceCIDRs.values()) clusterNetworks.push(...sc.cidrs);
    const text = renderTenantDirectory(
      buildTenantDirectory({
        tenants: new Map(managed.map((m) => [m.name, m.tenant])),
        sharedNamespaces: [SYSTEM_NAMESPACES[0]],
        services: this.caches.services.values(),
        pods: this.caches.pods.values(),
        clusterNetworks,
      }),
    );
    const hash = contentHash(text);
    const previous = this.published;
    if (previous && previous.hash === hash) {
      this.published = { ...previous, managed };
      return this.published;
    }
    this.published = { text, hash, managed };
    if (!this.stopped) this.opts.onPublish(this.published, previous);
    return this.published;
  }

  stop(): void {
    this.stopped = true;
    clearTimeout(this.quietTimer);
    clearTimeout(this.deadlineTimer);
  }

  private flush(): void {
    if (!this.stopped) this.rebuild();
  }
}
