// Every generated file committed is what its sources produce now: the one
// check behind `npm run generate:check` (scripts/generate.ts), run once here.
import t from 'tap';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { GENERATED, generatedFiles, main, repoRoot, staleFiles } from '../../scripts/generate';

const ROOT = repoRoot(__dirname);

t.test('committed generated files match their sources (run `npm run generate` when this fails)', async (t) => {
  t.same(staleFiles(ROOT), []);
});

t.test('every generator contributes, into one set of distinct paths', async (t) => {
  const all = generatedFiles(ROOT);
  const perSet = GENERATED.map((g) => g.files(ROOT).size);
  t.ok(perSet.every((n) => n > 0), `files per generator: ${perSet.join(', ')}`);
  t.equal(all.size, perSet.reduce((a, b) => a + b, 0), 'no path claimed twice');
  for (const path of ['crds/kubedlp.io_securityprofiles.yaml', 'config/rbac/role.yaml', 'config/webhook/manifests.yaml', 'config/prometheus/prometheusrule.yaml']) {
    t.ok(all.has(path), path);
  }
});

t.test('the check notices missing and edited files; generate writes what the check wants', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'kdlp-generated-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const files = [...generatedFiles(ROOT)];
  t.same(staleFiles(dir, ROOT), files.map(([p]) => p).sort(), 'all missing');
  for (const [path, content] of files) {
    mkdirSync(dirname(join(dir, path)), { recursive: true });
    writeFileSync(join(dir, path), content);
  }
  t.same(staleFiles(dir, ROOT), [], 'all present');
  const [first] = files[0]!;
  writeFileSync(join(dir, first), readFileSync(join(dir, first), 'utf8').replace('Monitor', 'Monitr'));
  t.same(staleFiles(dir, ROOT), [first], 'one edited');
});

t.test('main: --check exits 1 naming the stale file and the command; without it, rewrites', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'kdlp-generated-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  // The monitoring generator reads the alert rules from the tree it writes into.
  const rules = 'config/prometheus/rules/kube-dlp.rules.yml';
  mkdirSync(dirname(join(dir, rules)), { recursive: true });
  writeFileSync(join(dir, rules), readFileSync(join(ROOT, rules)));
  const stderr: string[] = [];
  const write = process.stderr.write.bind(process.stderr);
  const stdout = process.stdout.write.bind(process.stdout);
  process.stderr.write = ((chunk: string) => (stderr.push(String(chunk)), true)) as typeof process.stderr.write;
  process.stdout.write = (() => true) as typeof process.stdout.write;
  let codes: number[];
  try {
    codes = [main(['--check'], dir), main([], dir), main(['--check'], dir)];
  } finally {
    process.stderr.write = write;
    process.stdout.write = stdout;
  }
  t.same(codes, [1, 0, 0], 'stale, written, clean');
  t.match(stderr.join(''), /stale: crds\/kubedlp\.io_securityprofiles\.yaml\n[\s\S]*run `npm run generate`/);
});
