// gitleaks import produces a profile that LOADS (parseProfile, the same path
// `kube-dlp scan --profile` and the proxy take), and the loaded scanner
// honours what the rules said: the secret group, the entropy floor, the
// per-rule and global allowlists (regexes, stopwords; paths are carried for
// the CLI).
import t from 'tap';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { stringify as toYaml } from 'yaml';
import { gitleaksProfile, translateGitleaks } from '../../cli/gitleaks-import';
import { parseProfile } from '../../proxy/profile';

const FIXTURES = join(__dirname, '..', 'fixtures', 'cli');

function load(file: string) {
  const translation = translateGitleaks(readFileSync(join(FIXTURES, file), 'utf8'));
  const yaml = toYaml(gitleaksProfile(translation, 'imported'));
  return { translation, yaml, config: parseProfile(yaml, 'imported.yaml') };
}

t.test('the original fixture imports into a profile that loads', async (t) => {
  const { translation, config } = load('gitleaks.toml');
  t.equal(config.profileName, 'imported');
  t.same(translation.detectors.map((d) => d.id), ['gitleaks-acme-api-key', 'gitleaks-generic-unbounded']);
  const acme = config.scanner.detectors.find((d) => d.id === 'custom.gitleaks-acme-api-key');
  t.equal(acme?.valueGroup, 1, 'secretGroup carried as valueGroup');
  const findings = config.scanner.scan(Buffer.from('acme_key = "ak_0a1b2c3d4e5f6g7h8i9j0k1l"')).filter((f) => f.detector.startsWith('custom.'));
  t.equal(findings.length, 1);
  t.equal(findings[0].end - findings[0].start, 27, 'the finding is the secret group, not the assignment');
});

t.test('allowlists and entropy are carried over and enforced by the loaded scanner', async (t) => {
  const { translation, config } = load('gitleaks-allowlists.toml');
  const widget = translation.detectors.find((d) => d.id === 'gitleaks-widget-token');
  t.same(widget?.allowlist, { regexes: ['wt_0{20}', '^zz_fixture_'], stopwords: ['sample', 'notreal'], paths: ['(^|/)testdata/'] });
  t.equal(widget?.minEntropy, 3.2);
  const gadget = translation.detectors.find((d) => d.id === 'gitleaks-gadget-key');
  t.same(gadget?.allowlist?.regexes, ['gk-0123456789abcdef', '^zz_fixture_'], 'array-form rule allowlist plus the global one');
  t.same(gadget?.allowlist?.paths, ['(^|/)testdata/']);

  // The profile also runs the library (no enable list); only the imported detectors are under test.
  const scan = (s: string) => config.scanner.scan(Buffer.from(s)).map((f) => f.detector).filter((id) => id.startsWith('custom.'));
  t.same(scan('widget_token: wt_Qx7Lm2Pz9Rt4Vb8Nc1Kd'), ['custom.gitleaks-widget-token'], 'a real token is found');
  t.same(scan('widget_token: wt_SAMPLEQx7Lm2Pz9Rt4Vb8'), [], 'stopword (case-insensitive) allows');
  t.same(scan('widget_token: wt_00000000000000000000'), [], 'allowlist regex allows (and the entropy floor agrees)');
  t.same(scan('widget_token: wt_abababababababababab'), [], 'entropy floor rejects a low-entropy value');
  t.same(scan(`gk-${'9f'.repeat(16)}`), ['custom.gitleaks-gadget-key']);
  t.same(scan('gk-0123456789abcdef0123456789abcdef'), [], 'rule allowlist regex allows');
});

t.test('what cannot be carried exactly is reported, not silently changed', async (t) => {
  const toml = `
[[rules]]
id = "scoped"
regex = '''tok_[a-z0-9]{16}'''
path = '''\\.env$'''
[[rules.allowlists]]
condition = "AND"
regexTarget = "line"
regexes = ['''tok_test''']
commits = ["abc123"]
`;
  const r = translateGitleaks(toml);
  t.equal(r.detectors.length, 1);
  const notes = r.notes.map((n) => n.note).join('\n');
  t.match(notes, /condition AND/);
  t.match(notes, /commits ignored/);
  t.match(notes, /regexTarget "line"/);
  t.match(notes, /path restriction/);
});

t.test('an allowlist regex that does not compile skips the rule with the reason', async (t) => {
  const r = translateGitleaks(`
[[rules]]
id = "broken-allow"
regex = '''tok_[a-z0-9]{16}'''
[rules.allowlist]
regexes = ['''(unclosed''']
`);
  t.equal(r.detectors.length, 0);
  t.match(r.skipped[0], { id: 'broken-allow', reason: /allowlist regex/ });
});
