// The proxy image follows the operator's own image unless --proxy-image says
// otherwise: one image reference in the manifests, so a kustomize `images:`
// rewrite (or a Helm value) moves the operator and its sidecars together.
// The Pod is found with a list and a field selector because the operator
// may list pods (the rollout controller watches them) but not get one.
import type { KubeClient } from '../kube/client';
import type { Pod } from '../inject/pod';
import { PODS } from '../kube/resources';
import { WebhookOptionsError } from '../errors';

/** The container of the operator's Deployment (config/manager/manager.yaml). */
export const OPERATOR_CONTAINER = 'operator';

export async function ownImage(client: KubeClient, namespace: string, podName: string): Promise<string> {
  const { items } = await client.list<Pod>(PODS, { namespace, fieldSelector: `metadata.name=${podName}` });
  const pod = items[0];
  if (!pod) throw new WebhookOptionsError(`cannot find the operator's own Pod ${namespace}/${podName} to read its image; set --proxy-image`);
  return imageOf(pod, `${namespace}/${podName}`);
}

export function imageOf(pod: Pod, where: string): string {
  const containers = pod.spec?.containers ?? [];
  const own = containers.find((c) => c.name === OPERATOR_CONTAINER) ?? (containers.length === 1 ? containers[0] : undefined);
  const image = own?.image;
  if (typeof image !== 'string' || image === '') {
    throw new WebhookOptionsError(`Pod ${where} has no container named ${OPERATOR_CONTAINER} to take the proxy image from; set --proxy-image`);
  }
  return image;
}
