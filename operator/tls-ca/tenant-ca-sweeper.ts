// Removes the CA of a tenant that has no opted-in namespace left. The
// namespace copies go with their profile (owner references) or with the
// namespace; the tenant's own Secret in the operator's namespace has no such
// owner, so it is swept here.
import type { KubeClient } from '../kube/client';
import type { Logger } from '../kube/logger';
import { SECRETS } from '../kube/resources';
import { LABEL_TENANT_CA } from './names';
import type { TenantCaStore } from './tenant-ca-store';

export class TenantCaSweeper {
  constructor(
    private readonly client: KubeClient,
    private readonly namespace: string,
    private readonly store: TenantCaStore,
    private readonly log: Logger,
  ) {}

  /** `tenants`: every tenant with an opted-in namespace, from synced caches (an empty set from cold caches would sweep everything). */
  async sweep(tenants: ReadonlySet<string>): Promise<string[]> {
    const list = await this.client.list<{ metadata: { labels?: Record<string, string> } }>(SECRETS, { namespace: this.namespace, labelSelector: LABEL_TENANT_CA });
    const removed: string[] = [];
    for (const s of list.items) {
      const tenant = s.metadata.labels?.[LABEL_TENANT_CA];
      if (tenant === undefined || tenants.has(tenant)) continue;
      if (await this.store.remove(tenant)) removed.push(tenant);
    }
    if (removed.length > 0) this.log.info({ tenants: removed }, 'removed the CAs of tenants without namespaces');
    return removed;
  }
}
