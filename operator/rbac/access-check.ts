// Startup check that the operator may do everything permissions.ts lists,
// using SelfSubjectAccessReview (allowed to every authenticated identity).
// Failing early with the list of missing permissions beats a reconcile loop
// that retries 403s forever.
import { PermissionError } from '../errors';
import type { KubeClient } from '../kube/client';
import { SELF_SUBJECT_ACCESS_REVIEWS, collectionPath } from '../kube/resources';
import { CLUSTER_PERMISSIONS, NAMESPACE_PERMISSIONS, type Permission } from './permissions';

interface Review {
  status?: { allowed?: boolean; reason?: string };
}

export async function checkPermissions(client: KubeClient, operatorNamespace: string): Promise<void> {
  // A rule narrowed by resourceNames is checked for its first name: asked
  // without a name, the review would say no although the rule is in place.
  const checks: { p: Permission; verb: string; namespace?: string }[] = [
    ...CLUSTER_PERMISSIONS.flatMap((p) => p.verbs.map((verb) => ({ p, verb }))),
    ...NAMESPACE_PERMISSIONS.flatMap((p) => p.verbs.map((verb) => ({ p, verb, namespace: operatorNamespace }))),
  ];
  const results = await Promise.all(
    checks.map(async ({ p, verb, namespace }) => {
      const [resource, subresource] = p.resource.split('/');
      const review = await client.request<Review>('POST', collectionPath(SELF_SUBJECT_ACCESS_REVIEWS), {
        body: {
          apiVersion: 'authorization.k8s.io/v1',
          kind: 'SelfSubjectAccessReview',
          spec: { resourceAttributes: { group: p.group, resource, subresource, verb, namespace, name: p.resourceNames?.[0] } },
        },
      });
      const where = namespace ? ` in namespace ${namespace}` : ' cluster-wide';
      const named = p.resourceNames ? ` named ${p.resourceNames[0]}` : '';
      return review.status?.allowed ? undefined : `${verb} ${p.group ? `${p.resource}.${p.group}` : p.resource}${named}${where}`;
    }),
  );
  const missing = results.filter((m): m is string => m !== undefined);
  if (missing.length > 0) throw new PermissionError(missing);
}
