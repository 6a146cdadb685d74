// Finds the kube-apiserver and etcd binaries by delegating to
// build-assets.sh, the one place that knows about KUBEBUILDER_ASSETS, the
// build cache and how to build from source.

import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { EnvtestError } from './errors';

export interface Assets {
  dir: string;
  kubeApiserver: string;
  etcd: string;
}

/**
 * This file runs from test/envtest/ (tap, ts-node) or from
 * dist/test/envtest/ (compiled): walk up to the folder holding the script.
 */
export function buildScriptPath(): string {
  let dir = __dirname;
  for (;;) {
    const candidate = join(dir, 'test', 'envtest', 'build-assets.sh');
    if (existsSync(candidate)) return candidate;
    const parent = dirname(dir);
    if (parent === dir) {
      throw new EnvtestError('KDLP_ENVTEST_ASSETS', `test/envtest/build-assets.sh not found above ${__dirname}`);
    }
    dir = parent;
  }
}

/**
 * Returns the binaries' folder. Seconds when KUBEBUILDER_ASSETS is set or the
 * cache is warm; a cold build takes tens of minutes, which is why
 * with-control-plane.sh runs the script before any test timeout starts.
 * The script's progress is forwarded to stderr.
 */
export async function resolveAssets(): Promise<Assets> {
  const script = buildScriptPath();
  const dir = await new Promise<string>((resolve, reject) => {
    const child = spawn('bash', [script], { stdio: ['ignore', 'pipe', 'inherit'] });
    let stdout = '';
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
    child.once('error', reject);
    child.once('exit', (code) => {
      const lines = stdout.trim().split('\n');
      if (code === 0 && lines.length > 0 && lines[lines.length - 1] !== '') {
        resolve(lines[lines.length - 1]);
      } else {
        reject(
          new EnvtestError(
            'KDLP_ENVTEST_ASSETS',
            `${script} exited with ${code}; its messages above say what is missing`,
          ),
        );
      }
    });
  });
  const assets = { dir, kubeApiserver: join(dir, 'kube-apiserver'), etcd: join(dir, 'etcd') };
  for (const binary of [assets.kubeApiserver, assets.etcd]) {
    if (!existsSync(binary)) {
      throw new EnvtestError('KDLP_ENVTEST_ASSETS', `${binary} does not exist`);
    }
  }
  return assets;
}
