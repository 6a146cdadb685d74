// `kube-dlp scan` as a build pipeline runs it: the real CLI process, real
// files and stdin, checked by exit code and by parsed output.
import t from 'tap';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

const ROOT = resolve(__dirname, '..', '..');
const BIN = join(ROOT, 'bin', 'kube-dlp.js');
const CARD = '4111 1111 1111 1111';

function cli(args: string[], input?: string) {
  const r = spawnSync(process.execPath, [BIN, ...args], { input, encoding: 'utf8', cwd: ROOT, timeout: 120_000 });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

const dir = mkdtempSync(join(tmpdir(), 'kdlp-cli-'));
const leaky = join(dir, 'leaky.json');
writeFileSync(leaky, `{\n  "note": "hello",\n  "card": "${CARD}"\n}\n`);
const clean = join(dir, 'clean.txt');
writeFileSync(clean, 'nothing to see here, order 12345 shipped\n');
const encoded = join(dir, 'encoded.txt');
writeFileSync(encoded, `payload=${Buffer.from(`{"card":"${CARD}"}`).toString('base64')}\n`);
mkdirSync(join(dir, 'tree', 'node_modules'), { recursive: true });
writeFileSync(join(dir, 'tree', 'a.env'), `CARD=${CARD}\n`);
writeFileSync(join(dir, 'tree', 'node_modules', 'skip.txt'), `CARD=${CARD}\n`);

t.test('json report: byte offsets, masked evidence, exit 1', async (t) => {
  const r = cli(['scan', '--format', 'json', leaky]);
  t.equal(r.code, 1, 'findings fail the run');
  const report = JSON.parse(r.stdout);
  t.match(report.engine, /^(vectorscan|re2)$/);
  const card = report.findings.find((f: { detector: string }) => f.detector === 'pci.card-number');
  t.ok(card, 'card found');
  const text = `{\n  "note": "hello",\n  "card": "${CARD}"\n}\n`;
  t.equal(card.start, text.indexOf(CARD), 'start is a byte offset into the file');
  t.equal(card.end, text.indexOf(CARD) + CARD.length);
  t.equal(card.file, leaky);
  t.equal(card.line, 3);
  t.equal(card.masked, '4111 **** **** 1111');
  t.notMatch(r.stdout, CARD, 'the raw value is never printed');
  t.same(Object.keys(card).filter((k) => ['detector', 'category', 'severity', 'start', 'end', 'masked', 'file'].includes(k)).length, 7);
});

t.test('clean input exits 0', async (t) => {
  const r = cli(['scan', '--format', 'json', clean]);
  t.equal(r.code, 0);
  t.same(JSON.parse(r.stdout).findings, []);
});

t.test('standard input and --fail-on threshold', async (t) => {
  const r = cli(['scan', '--format', 'json', '-'], `email me: jane.doe@acme-corp.io`);
  const report = JSON.parse(r.stdout);
  t.ok(report.findings.some((f: { detector: string }) => f.detector === 'pii.email'), 'email found on stdin');
  t.equal(report.findings[0].file, '-');
  t.equal(cli(['scan', '--fail-on', 'critical', '-'], `email me: jane.doe@acme-corp.io`).code, 0, 'below threshold passes');
  t.equal(cli(['scan', '--fail-on', 'low', '-'], `email me: jane.doe@acme-corp.io`).code, 1, 'at threshold fails');
});

t.test('decoded content is found and mapped to the encoded run', async (t) => {
  const r = cli(['scan', '--format', 'json', encoded]);
  t.equal(r.code, 1);
  const f = JSON.parse(r.stdout).findings.find((x: { detector: string }) => x.detector === 'pci.card-number');
  t.ok(f, 'card inside base64 found');
  t.match(f.view, /base64/);
  const run = Buffer.from(`{"card":"${CARD}"}`).toString('base64');
  t.ok(f.start >= 'payload='.length && f.end <= 'payload='.length + run.length, 'span lies inside the base64 run');
  t.equal((f.end - f.start) % 4, 0, 'span covers whole base64 groups');
  t.ok(f.end - f.start >= Math.ceil((CARD.length * 4) / 3), 'span covers the encoded card');
});

t.test('directories are walked, node_modules skipped', async (t) => {
  const r = cli(['scan', '--format', 'json', join(dir, 'tree')]);
  const files = JSON.parse(r.stdout).findings.map((f: { file: string }) => f.file);
  t.ok(files.some((f: string) => f.endsWith('a.env')));
  t.notOk(files.some((f: string) => f.includes('node_modules')));
});

t.test('SARIF 2.1.0 for code-scanning UIs', async (t) => {
  const r = cli(['scan', '--format', 'sarif', leaky]);
  t.equal(r.code, 1);
  const sarif = JSON.parse(r.stdout);
  t.equal(sarif.version, '2.1.0');
  t.match(sarif.$schema, /sarif-2\.1\.0/);
  const run = sarif.runs[0];
  t.equal(run.tool.driver.name, 'kube-dlp');
  const result = run.results.find((x: { ruleId: string }) => x.ruleId === 'pci.card-number');
  t.ok(result);
  t.equal(run.tool.driver.rules[result.ruleIndex].id, 'pci.card-number', 'ruleIndex points at its rule');
  t.equal(result.level, 'error');
  const region = result.locations[0].physicalLocation.region;
  t.equal(region.startLine, 3);
  t.equal(region.startColumn, 12);
  t.notMatch(r.stdout, CARD);
});

t.test('usage and input errors exit 2 with a clear message', async (t) => {
  const missing = cli(['scan', join(dir, 'nope.txt')]);
  t.equal(missing.code, 2);
  t.match(missing.stderr, /cannot read .*nope\.txt/);
  const badFormat = cli(['scan', '--format', 'xml', clean]);
  t.equal(badFormat.code, 2);
  t.match(badFormat.stderr, /--format must be one of text, json, sarif/);
  const badProfile = join(dir, 'bad-profile.yaml');
  writeFileSync(
    badProfile,
    'apiVersion: kubedlp.io/v1alpha1\nkind: SecurityProfile\nmetadata: {name: x}\nspec:\n  mode: Protect\n  detectors:\n    custom:\n      - id: broken\n        pattern: "(a)\\\\1"\n',
  );
  const bp = cli(['scan', '--profile', badProfile, clean]);
  t.equal(bp.code, 2);
  t.match(bp.stderr, /broken/);
  t.match(bp.stderr, /backreference/);
  t.equal(cli(['scan', '--no-such-flag', clean]).code, 2);
});

t.test('a profile selects the detectors', async (t) => {
  const profile = join(dir, 'only-custom.yaml');
  writeFileSync(
    profile,
    'apiVersion: kubedlp.io/v1alpha1\nkind: SecurityProfile\nmetadata: {name: x}\nspec:\n  detectors:\n    enable: []\n    custom:\n      - id: ticket\n        pattern: "TICKET-[0-9]{6}"\n        severity: medium\n',
  );
  const input = join(dir, 'ticket.txt');
  writeFileSync(input, `TICKET-123456 and ${CARD}\n`);
  const report = JSON.parse(cli(['scan', '--format', 'json', '--profile', profile, input]).stdout);
  t.same(report.findings.map((f: { detector: string }) => f.detector), ['custom.ticket'], 'only the profile detectors ran');
});

t.test('detectors list --format json lists the library', async (t) => {
  const r = cli(['detectors', 'list', '--format', 'json']);
  t.equal(r.code, 0);
  const list = JSON.parse(r.stdout).detectors;
  t.ok(list.length >= 60);
  t.ok(list.some((d: { id: string }) => d.id === 'pci.card-number'));
  for (const d of list) t.match(d, { id: String, category: /^(pci|pii|secret)$/, severity: String, patterns: Array, optIn: Boolean, example: String });
  t.match(list.find((d: { id: string }) => d.id === 'pii.ip-address'), { optIn: true, validator: 'ip-address', action: 'monitor' });
});

t.test('detectors list (text) shows validator, default action, opt-in status and an example', async (t) => {
  const r = cli(['detectors', 'list']);
  t.equal(r.code, 0);
  const lines = r.stdout.trim().split('\n');
  t.match(lines[0], /^ID\s+CATEGORY\s+SEVERITY\s+ACTION\s+OPT-IN\s+VALIDATOR\s+EXAMPLE$/);
  const card = lines.find((l) => l.startsWith('pci.card-number '));
  t.match(card, /pci\s+critical\s+block\s+no\s+luhn-card\s+card_number=4111111111111111/);
  const ip = lines.find((l) => l.startsWith('pii.ip-address '));
  t.match(ip, /pii\s+low\s+monitor\s+yes\s+ip-address\s+ip: /);
  t.match(lines[lines.length - 1], /^\d+ detectors \(\d+ opt-in: enable them by id\)$/);
});

t.test('gitleaks import translates what it can and explains the rest', async (t) => {
  const r = cli(['detectors', 'import', '--gitleaks', join(ROOT, 'test', 'fixtures', 'cli', 'gitleaks.toml')]);
  t.equal(r.code, 0);
  t.match(r.stdout, /gitleaks-acme-api-key/);
  t.match(r.stdout, /caseInsensitive: true/);
  t.match(r.stdout, /valueGroup: 1/);
  t.match(r.stdout, /zz_token_\[A-Za-z0-9\]\{1,256\}/, 'unbounded repeat bounded');
  t.match(r.stderr, /skipped lookahead-rule: .*lookahead/);
  t.match(r.stderr, /skipped path-only: path-only rule/);
  t.match(r.stderr, /translated 2 rule\(s\), skipped 2/);
  t.match(r.stdout, /kind: SecurityProfile/, 'a whole profile, not a fragment');
  const bad = cli(['detectors', 'import', '--gitleaks', leaky]);
  t.equal(bad.code, 2);
  t.match(bad.stderr, /TOML/);
});

t.test('an imported gitleaks profile loads in scan --profile, with its allowlists', async (t) => {
  const imported = cli(['detectors', 'import', '--gitleaks', join(ROOT, 'test', 'fixtures', 'cli', 'gitleaks-allowlists.toml'), '--name', 'from-gitleaks']);
  t.equal(imported.code, 0, imported.stderr);
  const profile = join(dir, 'from-gitleaks.yaml');
  writeFileSync(profile, imported.stdout);
  const token = 'widget_token: wt_Qx7Lm2Pz9Rt4Vb8Nc1Kd\nwidget_token: wt_notreal7Lm2Pz9Rt4Vb8\n';
  const src = join(dir, 'app.env');
  writeFileSync(src, token);
  mkdirSync(join(dir, 'testdata'), { recursive: true });
  const fixture = join(dir, 'testdata', 'app.env');
  writeFileSync(fixture, token);
  const r = cli(['scan', '--format', 'json', '--profile', profile, src, fixture]);
  t.equal(r.code, 1, r.stderr);
  const found = JSON.parse(r.stdout).findings.filter((f: { detector: string }) => f.detector === 'custom.gitleaks-widget-token');
  t.equal(found.length, 1, 'one finding: the stopword allows the second line, the path allowlist the testdata file');
  t.equal(found[0].file, src);
  t.equal(found[0].line, 1);
});
