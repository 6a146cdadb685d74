import { CoreV1Api, type KubeConfig } from '@kubernetes/client-node';

/**
 * Creates a namespace named `<prefix>-<random suffix>` and returns its name,
 * so tests sharing one control plane never see each other's objects.
 *
 * Nothing deletes it: without kube-controller-manager's namespace controller
 * a deleted namespace stays Terminating forever, so waiting for its deletion
 * would hang. The control plane is thrown away after the run anyway.
 */
export async function newNamespace(kubeConfig: KubeConfig, prefix: string): Promise<string> {
  // generateName appends 5 random characters; names are DNS labels (<= 63).
  const base = prefix.toLowerCase().replace(/[^a-z0-9-]+/g, '-').replace(/^-+|-+$/g, '').slice(0, 50) || 'test';
  const core = kubeConfig.makeApiClient(CoreV1Api);
  const created = await core.createNamespace({
    body: { metadata: { generateName: `${base}-`, labels: { 'kube-dlp.test/envtest': 'true' } } },
  });
  return created.metadata!.name!;
}
