// Builds the install manifests for real: `kubectl kustomize`, the kustomize
// vendored in kubectl, from the same Kubernetes release as the control plane
// the tests run (test/envtest/build-node-assets.sh builds it, or finds it in
// its cache). Every kustomize feature (patches, components, transformers) is
// therefore applied as a user's `kubectl apply -k` would; nothing is
// re-implemented here. Without Go to build kubectl the build script exits
// with the reason, and so does every test that needs the manifests.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { parseAllDocuments } from 'yaml';
import type { KubeObject } from '../../operator/model/kube-object';

const ROOT = join(__dirname, '..', '..');
const BUILD_NODE_ASSETS = join(ROOT, 'test', 'envtest', 'build-node-assets.sh');

let kubectlPath: string | undefined;

/** The kubectl built by build-node-assets.sh (built now if the cache lacks it; that takes minutes). */
export function kubectlBinary(): string {
  if (kubectlPath) return kubectlPath;
  const built = spawnSync('bash', [BUILD_NODE_ASSETS], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
  const dir = built.stdout?.trim().split('\n').pop();
  if (built.status !== 0 || !dir) {
    const why = (built.stderr ?? '').trim().split('\n').slice(-3).join(' | ') || built.error?.message || 'no output';
    throw new Error(`kubectl (for kustomize builds) is not available: ${BUILD_NODE_ASSETS} exited ${built.status}: ${why}`);
  }
  kubectlPath = join(dir, 'kubectl');
  return kubectlPath;
}

/** `kubectl kustomize DIR`, parsed; throws with kustomize's message when the build fails. */
export function kustomizeBuild(dir: string): KubeObject[] {
  const out = spawnSync(kubectlBinary(), ['kustomize', dir], { encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 });
  if (out.status !== 0) throw new Error(`kubectl kustomize ${relative(ROOT, dir) || dir} failed: ${(out.stderr || out.error?.message || '').trim()}`);
  const objects: KubeObject[] = [];
  for (const doc of parseAllDocuments(out.stdout)) {
    if (doc.errors.length > 0) throw new Error(`kubectl kustomize ${dir}: ${doc.errors[0]!.message}`);
    const value = doc.toJS() as KubeObject | null;
    if (value !== null) objects.push(value);
  }
  return objects;
}

/**
 * What a user's own kustomization with these `resources` and `components`
 * (folders) builds, e.g. config/default plus the config/certmanager
 * component. Kustomize accepts only relative paths, so the temporary
 * kustomization names the folders relative to itself.
 */
export function kustomizeComposition(resources: readonly string[], components: readonly string[]): KubeObject[] {
  const dir = mkdtempSync(join(tmpdir(), 'kdlp-kustomize-'));
  try {
    const list = (dirs: readonly string[]) => dirs.map((d) => `  - ${relative(dir, d)}\n`).join('');
    writeFileSync(
      join(dir, 'kustomization.yaml'),
      `apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\nresources:\n${list(resources)}components:\n${list(components)}`,
    );
    return kustomizeBuild(dir);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
