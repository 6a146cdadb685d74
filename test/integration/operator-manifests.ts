// Loads a kustomize tree (config/default) the way `kustomize build` would
// for the features our kustomizations use: `resources` (files and folders,
// recursively) and `namespace`. Anything else in a kustomization.yaml is an
// error, so a kustomization that grows a feature this loader ignores fails
// the tests instead of being applied half-understood.
import { existsSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { parseAllDocuments, parse } from 'yaml';
import type { KubeObject } from '../../operator/model/kube-object';

const KUSTOMIZATION_NAMES = ['kustomization.yaml', 'kustomization.yml', 'Kustomization'];
const SUPPORTED = new Set(['apiVersion', 'kind', 'resources', 'namespace']);

/** Kinds without a namespace, among those our manifests use. */
const CLUSTER_SCOPED = new Set(['Namespace', 'ClusterRole', 'ClusterRoleBinding', 'CustomResourceDefinition', 'MutatingWebhookConfiguration']);
const NAMESPACED = new Set(['ServiceAccount', 'Role', 'RoleBinding', 'Deployment', 'Service', 'PodDisruptionBudget', 'NetworkPolicy', 'ConfigMap']);

export function kustomizationFile(dir: string): string {
  for (const name of KUSTOMIZATION_NAMES) {
    const file = join(dir, name);
    if (existsSync(file)) return file;
  }
  throw new Error(`${dir}: no kustomization file`);
}

export function loadKustomization(dir: string): KubeObject[] {
  const file = kustomizationFile(dir);
  const k = parse(readFileSync(file, 'utf8')) as Record<string, unknown>;
  const unknown = Object.keys(k).filter((key) => !SUPPORTED.has(key));
  if (unknown.length > 0) throw new Error(`${file}: unsupported kustomization fields: ${unknown.join(', ')}`);
  const objects: KubeObject[] = [];
  for (const entry of (k.resources as string[] | undefined) ?? []) {
    const path = resolve(dirname(file), entry);
    if (statSync(path).isDirectory()) objects.push(...loadKustomization(path));
    else objects.push(...loadYamlFile(path));
  }
  if (typeof k.namespace === 'string') return objects.map((o) => withNamespace(o, k.namespace as string));
  return objects;
}

export function loadYamlFile(path: string): KubeObject[] {
  const out: KubeObject[] = [];
  for (const doc of parseAllDocuments(readFileSync(path, 'utf8'))) {
    if (doc.errors.length > 0) throw new Error(`${path}: ${doc.errors[0]!.message}`);
    const value = doc.toJS() as KubeObject | null;
    if (value !== null) out.push(value);
  }
  return out;
}

/** kustomize's namespace transformer, for the kinds above. */
function withNamespace(obj: KubeObject, namespace: string): KubeObject {
  const copy = structuredClone(obj);
  if (copy.kind === 'Namespace') {
    copy.metadata.name = namespace;
  } else if (NAMESPACED.has(copy.kind)) {
    copy.metadata.namespace = namespace;
  } else if (!CLUSTER_SCOPED.has(copy.kind)) {
    throw new Error(`${copy.kind} ${copy.metadata.name}: scope unknown to this loader; add the kind to its tables`);
  }
  if (copy.kind === 'MutatingWebhookConfiguration') {
    // Like kustomize: the webhook's Service moves with the namespace.
    for (const w of (copy.webhooks as { clientConfig?: { service?: { namespace?: string } } }[] | undefined) ?? []) {
      if (w.clientConfig?.service) w.clientConfig.service.namespace = namespace;
    }
  }
  if (copy.kind === 'RoleBinding' || copy.kind === 'ClusterRoleBinding') {
    for (const s of (copy.subjects as { kind: string; namespace?: string }[] | undefined) ?? []) {
      // Like kustomize v5: only subjects without a namespace get the new one.
      if (s.kind === 'ServiceAccount' && !s.namespace) s.namespace = namespace;
    }
  }
  return copy;
}
