// Every committed file that is derived from code, written and checked in one
// place:
//   npm run generate         # rewrite them all
//   npm run generate:check   # exit 1 and list the stale ones
// test/unit/generated-files.test.ts runs the same check, so a source change
// committed without regenerating fails the suite. Each entry names what it
// produces; the generators themselves stay beside their sources.
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { generatedFiles as operatorApiFiles, repoRoot } from '../operator/crd/generate';
import { MANIFEST_PATH, webhookManifests } from '../operator/webhook/manifests';
import { generatedFiles as monitoringFiles } from './prometheus/generate';
import { PLAIN_SCHEMAS_PATH, plainSchemasModule } from '../proxy/profile/plain-schema-generator';

export { repoRoot };

export interface GeneratedSet {
  what: string;
  /** Relative path (from the repository root) -> content; inputs read from `sourceRoot`. */
  files(sourceRoot: string): Map<string, string>;
}

export const GENERATED: readonly GeneratedSet[] = [
  { what: 'CRDs (crds/) and operator RBAC (config/rbac/)', files: () => operatorApiFiles() },
  { what: 'webhook configuration (config/webhook/)', files: () => new Map([[MANIFEST_PATH, webhookManifests()]]) },
  { what: 'Grafana dashboards, their ConfigMaps and the PrometheusRule', files: (root) => monitoringFiles(root) },
  { what: 'plain schemas the sidecar checks documents with (proxy/profile/)', files: () => new Map([[PLAIN_SCHEMAS_PATH, plainSchemasModule()]]) },
];

/** All generated files; two generators claiming one path is a programming error. */
export function generatedFiles(sourceRoot: string): Map<string, string> {
  const all = new Map<string, string>();
  for (const set of GENERATED) {
    for (const [path, content] of set.files(sourceRoot)) {
      if (all.has(path)) throw new Error(`${path} is generated twice (${set.what} and another generator)`);
      all.set(path, content);
    }
  }
  return all;
}

/** Generated files missing under `root` or different from what the sources (under `sourceRoot`) produce. */
export function staleFiles(root: string, sourceRoot = root): string[] {
  const stale: string[] = [];
  for (const [path, content] of generatedFiles(sourceRoot)) {
    const full = join(root, path);
    if (!existsSync(full) || readFileSync(full, 'utf8') !== content) stale.push(path);
  }
  return stale.sort();
}

export function main(argv: string[], root = resolve(repoRoot(__dirname))): number {
  if (argv.includes('--check')) {
    const stale = staleFiles(root);
    for (const path of stale) process.stderr.write(`stale: ${path}\n`);
    if (stale.length > 0) process.stderr.write(`${stale.length} generated file(s) out of date: run \`npm run generate\`\n`);
    return stale.length === 0 ? 0 : 1;
  }
  for (const [path, content] of generatedFiles(root)) {
    const full = join(root, path);
    mkdirSync(dirname(full), { recursive: true });
    const before = existsSync(full) ? readFileSync(full, 'utf8') : undefined;
    if (before === content) continue;
    writeFileSync(full, content);
    process.stdout.write(`wrote ${path}\n`);
  }
  return 0;
}

if (require.main === module) process.exitCode = main(process.argv.slice(2));
