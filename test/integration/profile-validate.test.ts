// `kube-dlp profile validate` as a pipeline runs it: the real CLI on real
// files, every file checked and reported, exit 2 when any is invalid.
import t from 'tap';
import { execFile } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

const ROOT = resolve(__dirname, '..', '..');
const BIN = join(ROOT, 'bin', 'kube-dlp.js');
const SAMPLES = join(ROOT, 'config', 'samples');

function validate(files: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((done) => {
    execFile(process.execPath, [BIN, 'profile', 'validate', ...files], { cwd: ROOT, timeout: 120_000 }, (err, stdout, stderr) =>
      done({ code: err ? Number((err as { code?: number }).code ?? 1) : 0, stdout, stderr }),
    );
  });
}

const HEADER = 'apiVersion: kubedlp.io/v1alpha1\nkind: SecurityProfile\nmetadata:\n  name: shop\n  namespace: payments\n';

t.test('the sample profiles are valid, each summarized on one line', async (t) => {
  const files = readdirSync(SAMPLES)
    .filter((f) => f.endsWith('.yaml'))
    .map((f) => join(SAMPLES, f));
  const r = await validate(files);
  t.equal(r.code, 0, r.stderr);
  const lines = r.stdout.trim().split('\n');
  t.equal(lines.length, files.length, 'one line per file');
  t.match(r.stdout, /^ok .*securityprofile-protect\.yaml: SecurityProfile protect-payments, Protect: \d+ detectors; egress default Allow, 1 allow, 6 deny rules$/m);
  t.match(r.stdout, /^ok .*renderedprofile-example\.yaml: RenderedProfile payments\/protect-payments, Protect: /m);
});

t.test('every file is checked; each problem is named by its path; exit 2', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'kdlp-validate-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const file = (name: string, text: string) => {
    writeFileSync(join(dir, name), text);
    return join(dir, name);
  };
  const good = file('good.yaml', `${HEADER}spec:\n  mode: Protect\n  egress:\n    default: Allow\n`);
  // A card number as a field value: reported by path, never echoed.
  const schema = file(
    'schema.yaml',
    `${HEADER}spec:\n  mode: "4111 1111 1111 1111"\n  inspection:\n    holdBackBytes: lots\n  egress:\n    alow: []\n    allow:\n      - host: "*.example.com"\n        ports: [443, "99999"]\n`,
  );
  const pattern = file(
    'pattern.yaml',
    `${HEADER}spec:\n  detectors:\n    custom:\n      - {id: order-ref, pattern: "ORD-([0-9]{4", severity: high, action: block, category: custom}\n`,
  );
  const twoDocs = file('two.yaml', `${HEADER}spec: {}\n---\n${HEADER}spec: {}\n`);
  const missing = join(dir, 'absent.yaml');

  const r = await validate([schema, good, pattern, twoDocs, missing]);
  t.equal(r.code, 2);
  t.match(r.stdout, `ok ${good}: SecurityProfile payments/shop, Protect:`, 'a valid file among invalid ones is still reported valid');
  t.match(r.stdout, `invalid ${schema}:\n`);
  t.match(r.stdout, /spec\.mode: must be one of: Monitor, Protect/);
  t.match(r.stdout, /spec\.inspection\.holdBackBytes: must be an integer/);
  t.match(r.stdout, /spec\.egress\.alow: unknown field \(known: default, allow, deny, uninspectable, websocket\)/);
  t.match(r.stdout, /spec\.egress\.allow\[0\]\.ports\[1\]: must be a port 1-65535/);
  t.notMatch(r.stdout + r.stderr, /4111/, 'the offending value is not echoed');
  t.match(r.stdout, /spec\.detectors\.custom\[0\]\.pattern: detector "custom\.order-ref": invalid pattern/, 'detectors are compiled, as the sidecar does');
  t.match(r.stdout, `invalid ${twoDocs}:\n  (document): holds more than one YAML document (---); give one profile per file`);
  t.match(r.stdout, `cannot read ${missing}:\n  (document): cannot read file (ENOENT)`);
  t.equal(r.stderr.trim(), '4 of 5 profile(s) invalid');
});

t.test('no file is a usage error', async (t) => {
  const r = await validate([]);
  t.equal(r.code, 2);
  t.match(r.stderr, /missing required argument 'files'/);
});
