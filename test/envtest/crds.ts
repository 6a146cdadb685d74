// Installs CustomResourceDefinitions from YAML files and waits until the
// apiserver serves them. Server-side apply makes installation idempotent, so
// every test file sharing one control plane can install the same CRDs.

import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import {
  ApiextensionsV1Api,
  PatchStrategy,
  setHeaderOptions,
  type KubeConfig,
  type V1CustomResourceDefinition,
} from '@kubernetes/client-node';
import { parseAllDocuments } from 'yaml';
import { describeApiError } from './api-errors';
import { EnvtestError } from './errors';
import { waitFor } from './wait';

export const ENVTEST_FIELD_MANAGER = 'kube-dlp-envtest';

/** Every CRD document in the folder's *.yaml, *.yml and *.json files, in file-name order. */
export async function readCRDs(dir: string): Promise<V1CustomResourceDefinition[]> {
  const files = (await readdir(dir)).filter((f) => /\.(ya?ml|json)$/i.test(f)).sort();
  const crds: V1CustomResourceDefinition[] = [];
  for (const file of files) {
    const path = join(dir, file);
    for (const doc of parseAllDocuments(await readFile(path, 'utf8'))) {
      if (doc.errors.length > 0) {
        throw new EnvtestError('KDLP_ENVTEST_CRD', `${path}: ${doc.errors[0].message}`);
      }
      const value = doc.toJS() as { kind?: string; metadata?: { name?: string } } | null;
      if (value === null) continue; // empty document between "---" lines
      if (value.kind !== 'CustomResourceDefinition' || !value.metadata?.name) {
        throw new EnvtestError(
          'KDLP_ENVTEST_CRD',
          `${path}: expected only named CustomResourceDefinition documents, found kind ${value.kind ?? '(none)'}`,
        );
      }
      crds.push(value as V1CustomResourceDefinition);
    }
  }
  return crds;
}

function isEstablished(crd: V1CustomResourceDefinition): boolean {
  return (crd.status?.conditions ?? []).some((c) => c.type === 'Established' && c.status === 'True');
}

/**
 * Applies every CRD found in `dir` and resolves once each one is Established,
 * i.e. its resources can be created. Returns the CRDs as stored.
 */
export async function installCRDs(
  kubeConfig: KubeConfig,
  dir: string,
  options: { timeoutMs?: number } = {},
): Promise<V1CustomResourceDefinition[]> {
  const crds = await readCRDs(dir);
  if (crds.length === 0) {
    throw new EnvtestError('KDLP_ENVTEST_CRD', `no CustomResourceDefinition found in ${dir}`);
  }
  const api = kubeConfig.makeApiClient(ApiextensionsV1Api);
  const apply = setHeaderOptions('Content-Type', PatchStrategy.ServerSideApply);
  for (const crd of crds) {
    const name = crd.metadata!.name!;
    try {
      await api.patchCustomResourceDefinition(
        { name, body: crd, fieldManager: ENVTEST_FIELD_MANAGER, force: true },
        apply,
      );
    } catch (err) {
      throw new EnvtestError('KDLP_ENVTEST_CRD', `applying CRD ${name} failed: ${describeApiError(err)}`, {
        cause: err,
      });
    }
  }
  return Promise.all(
    crds.map((crd) =>
      waitFor(
        async () => {
          const stored = await api.readCustomResourceDefinition({ name: crd.metadata!.name! });
          return isEstablished(stored) ? stored : undefined;
        },
        { what: `CRD ${crd.metadata!.name} to be Established`, timeoutMs: options.timeoutMs ?? 30_000 },
      ),
    ),
  );
}
