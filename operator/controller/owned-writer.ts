// Writes owned objects only when they differ from what is there. "What is
// there" is the informer cache, plus what this process applied moments ago
// and the watch has not echoed yet: without that memo, a reconcile triggered
// in between (our own namespace label write, say) would apply the same
// object again.
import { FIELD_MANAGER } from '../api/names';
import { TerminalReconcileError } from '../errors';
import type { KubeClient } from '../kube/client';
import { objectKey, type Change, type Informer } from '../kube/informer';
import type { ResourceType } from '../kube/resources';
import type { KubeObject } from '../model/kube-object';
import { contentHash, type OwnedView } from '../model/views';

export type WriteOutcome = 'unchanged' | 'applied' | 'deleted' | 'absent';

export class OwnedWriter {
  /** key -> content hash applied but not yet seen in the cache. */
  private readonly applied = new Map<string, string>();

  constructor(
    private readonly client: KubeClient,
    readonly resource: ResourceType,
    private readonly cache: Informer<OwnedView>,
  ) {}

  /**
   * Feed every change of the cache here. Whatever the watch reports
   * supersedes the memo (including someone else's edit right after ours).
   * Returns true when the change is merely the echo of our own latest apply.
   */
  observe(change: Change<OwnedView>): boolean {
    const ours = change.type !== 'delete' && this.applied.get(change.key) === change.view.contentHash;
    this.applied.delete(change.key);
    return ours;
  }

  async ensure(desired: KubeObject): Promise<WriteOutcome> {
    const { name, namespace } = desired.metadata;
    if (desired.kind === 'ConfigMap') checkConfigMapSize(desired);
    const key = objectKey(namespace, name);
    const hash = contentHash(contentOf(desired));
    const cached = this.cache.get(name, namespace);
    const upToDate =
      (cached !== undefined && cached.contentHash === hash && sameMeta(cached, desired)) || this.applied.get(key) === hash;
    if (upToDate) return 'unchanged';
    await this.client.apply(this.resource, desired, { fieldManager: FIELD_MANAGER });
    this.applied.set(key, hash);
    return 'applied';
  }

  async remove(name: string, namespace: string): Promise<WriteOutcome> {
    const key = objectKey(namespace, name);
    if (this.cache.get(name, namespace) === undefined && !this.applied.has(key)) return 'absent';
    await this.client.delete(this.resource, name, namespace);
    this.applied.delete(key);
    return 'deleted';
  }
}

/** What reconcile compares: a ConfigMap's data, any other object's spec (see views.toOwnedView). */
function contentOf(obj: KubeObject): unknown {
  return obj.kind === 'ConfigMap' ? (obj.data ?? {}) : (obj.spec ?? {});
}

function sameMeta(cached: OwnedView, desired: KubeObject): boolean {
  for (const [k, v] of Object.entries(desired.metadata.labels ?? {})) if (cached.labels[k] !== v) return false;
  const owners = (desired.metadata.ownerReferences ?? []).map((o) => o.uid);
  return owners.length === cached.ownerUids.length && owners.every((uid, i) => cached.ownerUids[i] === uid);
}

/** etcd's object limit is 1.5 MiB; ConfigMaps are capped at 1 MiB of data by the API server. */
export const CONFIGMAP_DATA_LIMIT = 1024 * 1024;

function checkConfigMapSize(cm: KubeObject): void {
  const bytes = Object.entries((cm.data ?? {}) as Record<string, string>).reduce(
    (n, [k, v]) => n + Buffer.byteLength(k) + Buffer.byteLength(v),
    0,
  );
  if (bytes > CONFIGMAP_DATA_LIMIT) {
    throw new TerminalReconcileError(
      `ConfigMap ${cm.metadata.namespace}/${cm.metadata.name} would hold ${bytes} bytes, over the ${CONFIGMAP_DATA_LIMIT}-byte limit`,
    );
  }
}
