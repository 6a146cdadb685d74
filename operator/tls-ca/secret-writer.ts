// Writes the namespace copies of a tenant CA Secret only when they differ.
// The operator keeps no Secret informer (that would need list/watch on every
// Secret in the cluster): one GET per reconcile of an intercepting namespace
// compares instead.
import { FIELD_MANAGER } from '../api/names';
import { KubeApiError } from '../errors';
import type { KubeClient } from '../kube/client';
import type { KubeObject } from '../model/kube-object';
import { SECRETS } from '../kube/resources';

export class SecretWriter {
  constructor(private readonly client: KubeClient) {}

  async ensure(desired: KubeObject): Promise<'unchanged' | 'applied'> {
    const { name, namespace } = desired.metadata;
    const current = await this.get(name, namespace!);
    const want = desired.data as Record<string, string>;
    const have = (current?.data ?? {}) as Record<string, string>;
    const sameOwners =
      JSON.stringify((current?.metadata.ownerReferences ?? []).map((o) => o.uid)) ===
      JSON.stringify((desired.metadata.ownerReferences ?? []).map((o) => o.uid));
    if (current && sameOwners && Object.keys(want).length === Object.keys(have).length && Object.entries(want).every(([k, v]) => have[k] === v)) {
      return 'unchanged';
    }
    await this.client.apply(SECRETS, desired, { fieldManager: FIELD_MANAGER });
    return 'applied';
  }

  async remove(name: string, namespace: string): Promise<'absent' | 'deleted'> {
    const current = await this.get(name, namespace);
    if (!current) return 'absent';
    await this.client.delete(SECRETS, name, namespace, { uid: current.metadata.uid });
    return 'deleted';
  }

  private async get(name: string, namespace: string): Promise<KubeObject | undefined> {
    try {
      return await this.client.get<KubeObject>(SECRETS, name, namespace);
    } catch (err) {
      if (err instanceof KubeApiError && err.notFound) return undefined;
      throw err;
    }
  }
}
