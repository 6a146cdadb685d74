import t from 'tap';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  loadProfileFile,
  parseProfile,
  ProfileError,
  scannerConfigOf,
} from '../../proxy/profile';
import { SecurityProfileSpecSchema } from '../../proxy/profile/schema';
import { detectorCatalog } from '../../proxy/profile/catalog';

const manifest = (spec: string, kind = 'SecurityProfile') =>
  `apiVersion: kubedlp.io/v1alpha1\nkind: ${kind}\nmetadata:\n  name: payments\n  namespace: shop\nspec:\n${spec}`;

function issuesOf(fn: () => unknown): ProfileError {
  try {
    fn();
  } catch (err) {
    if (err instanceof ProfileError) return err;
    throw err;
  }
  throw new Error('expected a ProfileError');
}

const pathsOf = (err: ProfileError) => err.issues.map((i) => i.path);

t.test('defaults are applied', async (t) => {
  const cfg = parseProfile(manifest('  mode: Monitor\n'));
  t.equal(cfg.profileName, 'payments');
  t.equal(cfg.namespace, 'shop');
  t.equal(cfg.kind, 'SecurityProfile');
  t.match(cfg.version, /^[0-9a-f]{16}$/);
  t.same(cfg.spec.inspection, {
    url: true,
    headers: true,
    requestBody: true,
    responseBody: false,
    maxBodyBytes: 10485760,
    holdBackBytes: 65536,
    decoders: ['gzip', 'deflate', 'br', 'percent', 'json', 'base64', 'multipart', 'normalize'],
    maxDecodedBytes: 67108864,
    maxDecompressionRatio: 100,
    maxDecodeDepth: 3,
  });
  t.same(cfg.spec.egress, { default: 'Allow', allow: [], deny: [], uninspectable: 'Allow' });
  t.same(cfg.spec.detectors, { enable: undefined, disable: [], custom: [], overrides: [] });
  t.same(cfg.spec.tenancy, { denyCrossTenant: false, exceptions: [], sharedNamespaces: [{ matchLabels: { 'kubedlp.io/shared': 'true' } }] });
  t.same(cfg.spec.tlsOrigination, { hosts: [] });
  t.equal(cfg.spec.actions, undefined);
  t.ok(cfg.scanner.detectors.length > 0, 'library detectors run by default');
  t.ok(cfg.scanner.detectors.every((d) => !d.optIn), 'but not the opt-in ones');
});

t.test('an absent or empty spec is all defaults, like the API server would make it', async (t) => {
  const noSpec = parseProfile('apiVersion: kubedlp.io/v1alpha1\nkind: ClusterSecurityProfile\nmetadata: {name: default}\n');
  const emptySpec = parseProfile('apiVersion: kubedlp.io/v1alpha1\nkind: ClusterSecurityProfile\nmetadata: {name: default}\nspec:\n');
  const nullFields = parseProfile(manifest('  egress:\n  inspection:\n'));
  t.equal(noSpec.spec.mode, 'Monitor');
  t.same(emptySpec.spec, noSpec.spec);
  t.same(nullFields.spec, noSpec.spec);
});

t.test('denyCrossTenant defaults by mode: on in Protect, off in Monitor, an explicit value wins', async (t) => {
  t.equal(parseProfile(manifest('  mode: Protect\n')).spec.tenancy.denyCrossTenant, true);
  t.equal(parseProfile(manifest('  mode: Monitor\n')).spec.tenancy.denyCrossTenant, false);
  t.equal(parseProfile(manifest('  mode: Protect\n  tenancy: {denyCrossTenant: false}\n')).spec.tenancy.denyCrossTenant, false);
  t.equal(parseProfile(manifest('  mode: Monitor\n  tenancy: {denyCrossTenant: true}\n')).spec.tenancy.denyCrossTenant, true);
});

t.test('uninspectable defaults by mode', async (t) => {
  t.equal(parseProfile(manifest('  mode: Protect\n')).spec.egress.uninspectable, 'Deny');
  t.equal(parseProfile(manifest('  mode: Monitor\n')).spec.egress.uninspectable, 'Allow');
  t.equal(parseProfile(manifest('  mode: Protect\n  egress: {uninspectable: Allow}\n')).spec.egress.uninspectable, 'Allow');
  const cfg = parseProfile(manifest('  mode: Protect\n'));
  t.equal(cfg.egress.decide({ host: 'x.net', port: 443, scheme: 'tcp' }, { inspectable: false }).reason, 'uninspectable-denied');
});

t.test('custom detector defaults', async (t) => {
  // enable: [custom] leaves the library out: a small, fast compile.
  const cfg = parseProfile(manifest('  detectors:\n    enable: [custom]\n    custom:\n      - id: employee-id\n        pattern: "EMP-[0-9]{6}"\n'));
  t.same(cfg.spec.detectors.custom[0], {
    id: 'employee-id',
    pattern: 'EMP-[0-9]{6}',
    severity: 'high',
    action: 'block',
    category: 'custom',
    caseInsensitive: false,
  });
  const findings = cfg.scanner.scan(Buffer.from('badge EMP-123456 issued'));
  t.equal(findings.length, 1);
  t.equal(findings[0].detector, 'custom.employee-id');
  t.notMatch(findings[0].masked, /123456/, 'evidence is masked');
});

t.test('manifest and rendered forms', async (t) => {
  const spec = '  mode: Protect\n  egress:\n    default: Deny\n    allow: [{host: "*.example.com", ports: [443]}]\n';
  const m = parseProfile(manifest(spec));
  const r = parseProfile(
    'apiVersion: kubedlp.io/v1alpha1\nkind: RenderedProfile\nprofile:\n  name: payments\n  namespace: shop\n  tenant: acme\n  version: "4711"\nspec:\n' + spec,
  );
  t.equal(r.kind, 'RenderedProfile');
  t.equal(r.profileName, 'payments');
  t.equal(r.namespace, 'shop');
  t.equal(r.tenant, 'acme');
  t.equal(r.sourceVersion, '4711');
  t.same(r.spec, m.spec, 'same spec either way');
  const cluster = parseProfile(manifest(spec, 'ClusterSecurityProfile').replace('  namespace: shop\n', ''));
  t.equal(cluster.kind, 'ClusterSecurityProfile');
  t.equal(cluster.namespace, undefined);
});

t.test('kubectl output (extra metadata, status) is accepted', async (t) => {
  const text = `apiVersion: kubedlp.io/v1alpha1
kind: SecurityProfile
metadata:
  name: p
  namespace: n
  uid: 0d7c
  resourceVersion: "12"
  labels: {team: a}
  managedFields: [{manager: kubectl}]
spec:
  mode: Monitor
status:
  conditions: [{type: Ready, status: "True"}]
`;
  t.equal(parseProfile(text).profileName, 'p');
});

t.test('JSON input', async (t) => {
  const cfg = parseProfile(JSON.stringify({
    apiVersion: 'kubedlp.io/v1alpha1',
    kind: 'RenderedProfile',
    profile: { name: 'x' },
    spec: { mode: 'Protect', egress: { deny: [{ cidr: 'fd00::/8' }] } },
  }));
  t.equal(cfg.spec.mode, 'Protect');
  t.equal(cfg.egress.decide({ host: 'fd00::1', port: 443, scheme: 'https' }).reason, 'denylist');
});

t.test('schema and semantic errors: every issue at once, each with its path', async (t) => {
  const err = issuesOf(() =>
    parseProfile(
      manifest(`  mode: Protct
  detectors:
    custom:
      - pattern: "x{1,3}"
      - id: Bad Id
        pattern: "y"
        severity: urgent
  inspection:
    maxBodyBytes: -1
    decoders: [gzip, zip]
    url: "yes"
  egress:
    alow: []
    allow:
      - host: "*.example.com"
        ports: [443, 70000, "9000-8000", true]
      - cidr: 10.0.0.0/33
      - host: a.example.com
        cidr: 10.0.0.0/8
      - {}
    deny:
      - host: "foo.*.com"
  tenancy:
    exceptions: [{tenant: a, namespace: b}]
    sharedNamespaces: [{matchLabels: {}}]
  tlsOrigination:
    hosts: [{host: "*.example.com"}, {host: api.example.com}, {host: API.example.com.}]
`),
    ),
  );
  t.equal(err.code, 'KDLP_PROFILE_INVALID');
  const expected: Record<string, RegExp> = {
    'spec.mode': /must be one of: Monitor, Protect/,
    'spec.detectors.custom[0].id': /is required/,
    'spec.detectors.custom[1].id': /must match/,
    'spec.detectors.custom[1].severity': /must be one of: low, medium, high, critical/,
    'spec.inspection.maxBodyBytes': /at least 0/,
    'spec.inspection.decoders[1]': /must be one of/,
    'spec.inspection.url': /true or false/,
    'spec.egress.alow': /unknown field/,
    'spec.egress.allow[0].ports[1]': /1-65535/,
    'spec.egress.allow[0].ports[2]': /greater than its end/,
    'spec.egress.allow[0].ports[3]': /integer or a string/,
    'spec.egress.allow[1].cidr': /prefix length/,
    'spec.egress.allow[2]': /mutually exclusive/,
    'spec.egress.allow[3]': /at least one of host, cidr or ports/,
    'spec.egress.deny[0].host': /wildcard/,
    'spec.tenancy.exceptions[0]': /exactly one of tenant or namespace/,
    'spec.tenancy.sharedNamespaces[0]': /needs at least one label/,
    'spec.tlsOrigination.hosts[0].host': /exact host name/,
    'spec.tlsOrigination.hosts[2]': /duplicate of hosts\[1\]/,
  };
  for (const [path, message] of Object.entries(expected)) {
    const issue = err.issues.find((i) => i.path === path);
    t.ok(issue, `issue reported for ${path}`);
    if (issue) t.match(issue.message, message, path);
  }
  t.same(pathsOf(err).sort(), Object.keys(expected).sort(), 'one issue per problem');
  t.match(err.message, /spec\.egress\.allow\[1\]\.cidr: prefix length/);
  t.notMatch(err.message, /Protct|70000|10\.0\.0\.0\/33/, 'offending values are not echoed');
});

t.test('holdBackBytes cannot exceed maxBodyBytes', async (t) => {
  const err = issuesOf(() => parseProfile(manifest('  inspection: {maxBodyBytes: 1024, holdBackBytes: 4096}\n')));
  t.same(err.issues, [{ path: 'spec.inspection.holdBackBytes', message: 'must not exceed inspection.maxBodyBytes' }]);
});

t.test('envelope errors', async (t) => {
  const wrongApi = issuesOf(() => parseProfile('apiVersion: v1\nkind: SecurityProfile\nmetadata: {}\nspec: {}\nextra: 1\n'));
  t.same(pathsOf(wrongApi).sort(), ['apiVersion', 'extra', 'metadata.name']);
  const wrongKind = issuesOf(() => parseProfile('apiVersion: kubedlp.io/v1alpha1\nkind: ConfigMap\n'));
  t.same(wrongKind.issues, [{ path: 'kind', message: 'must be one of: SecurityProfile, ClusterSecurityProfile, RenderedProfile' }]);
  const notAMap = issuesOf(() => parseProfile('- a\n- b\n'));
  t.equal(notAMap.issues[0].path, '');
  const clusterNs = issuesOf(() => parseProfile(manifest('  mode: Monitor\n', 'ClusterSecurityProfile')));
  t.same(pathsOf(clusterNs), ['metadata.namespace']);
  const rendered = issuesOf(() => parseProfile('apiVersion: kubedlp.io/v1alpha1\nkind: RenderedProfile\nprofile: {nam: x}\n'));
  t.same(pathsOf(rendered).sort(), ['profile.nam', 'profile.name']);
  const specNotMap = issuesOf(() => parseProfile(manifest('  - a\n')));
  t.same(pathsOf(specNotMap), ['spec']);
});

t.test('YAML errors name the line, never quote the file', async (t) => {
  const err = issuesOf(() => parseProfile(manifest('  mode: Monitor\n  mode: Protect\n'), 'p.yaml'));
  t.equal(err.code, 'KDLP_PROFILE_INVALID');
  t.match(err.issues[0].message, /unique.*line 8/);
  t.match(err.message, /\(p\.yaml\)/);
  const broken = issuesOf(() => parseProfile('spec: [1,\n  token: "ghp_secretsecret'));
  t.notMatch(broken.message, /ghp_/);
  const multi = issuesOf(() => parseProfile(`${manifest('  mode: Monitor\n')}---\n${manifest('  mode: Monitor\n')}`));
  t.equal(multi.issues[0].message, 'holds more than one YAML document (---); give one profile per file', 'the fix, not the YAML library\'s API');
});

t.test('invalid custom regexes: KDLP_DETECTOR_INVALID naming each detector', async (t) => {
  const err = issuesOf(() =>
    parseProfile(
      manifest(`  detectors:
    custom:
      - id: fine
        pattern: "OK-[0-9]{4}"
      - id: backref
        pattern: "(a)\\\\1"
      - id: lookbehind
        pattern: "(?<=key=)[a-z]{8}"
      - id: unbalanced
        pattern: "(abc"
`),
    ),
  );
  t.equal(err.code, 'KDLP_DETECTOR_INVALID');
  t.same(pathsOf(err), [
    'spec.detectors.custom[1].pattern',
    'spec.detectors.custom[2].pattern',
    'spec.detectors.custom[3].pattern',
  ]);
  t.match(err.issues[0].message, /custom\.backref.*backreference/);
  t.match(err.issues[1].message, /custom\.lookbehind.*lookbehind/);
  t.match(err.issues[2].message, /custom\.unbalanced/);
});

t.test('bad patterns are reported along with other issues', async (t) => {
  const err = issuesOf(() =>
    parseProfile(manifest('  egress: {deny: [{cidr: nope}]}\n  detectors:\n    custom: [{id: a, pattern: "(?<=x)y"}, {pattern: "z{2,1}"}]\n')),
  );
  t.equal(err.code, 'KDLP_PROFILE_INVALID', 'mixed issues: the general code');
  t.same(pathsOf(err), [
    'spec.detectors.custom[1].id',
    'spec.egress.deny[0].cidr',
    'spec.detectors.custom[0].pattern',
    'spec.detectors.custom[1].pattern',
  ]);
  t.match(err.issues[2].message, /custom\.a.*lookbehind/);
  t.match(err.issues[3].message, /custom\[1\]/);
});

t.test('custom detector ids: unique, not a library id, short references', async (t) => {
  const libraryId = [...detectorCatalog().ids][0];
  const err = issuesOf(() =>
    parseProfile(
      manifest(`  detectors:
    custom:
      - {id: dup, pattern: "A{2}"}
      - {id: custom.dup, pattern: "B{2}"}
      - {id: "${libraryId}", pattern: "C{2}"}
      - {id: v, pattern: "D{2}", validator: no-such-validator}
    enable: [pci, not-a-detector, pci]
`),
    ),
  );
  t.equal(err.code, 'KDLP_PROFILE_INVALID');
  const byPath = Object.fromEntries(err.issues.map((i) => [i.path, i.message]));
  t.match(byPath['spec.detectors.custom[1].id'], /duplicate detector id "custom\.dup"/);
  t.match(byPath['spec.detectors.enable[1]'], /unknown detector id or category/);
  t.match(byPath['spec.detectors.enable[2]'], /duplicate/);
  t.match(byPath['spec.detectors.custom[3].validator'], /unknown validator/);
  t.equal(libraryId.startsWith('custom.'), false, 'library ids never collide with custom.<id>, so a plain library id is a fine custom id');

  const cfg = parseProfile(
    manifest(`  detectors:
    enable: [pci, token]
    disable: [custom.other]
    custom:
      - {id: token, pattern: "TKN-[A-Z]{8}"}
      - {id: other, pattern: "OTH-[A-Z]{8}"}
`),
  );
  t.same(cfg.spec.detectors.enable, ['pci', 'custom.token'], 'short custom references become engine ids');
  const ids = cfg.scanner.detectors.map((d) => d.id);
  t.ok(ids.includes('custom.token'));
  t.notOk(ids.includes('custom.other'), 'disabled custom detector is not compiled in');
  t.ok(cfg.scanner.detectors.every((d) => d.category === 'pci' || d.id === 'custom.token'));
});

t.test('per-severity action overrides reach the scanner', async (t) => {
  const cfg = parseProfile(manifest('  actions: {high: redact}\n  detectors:\n    enable: [custom]\n    custom: [{id: x, pattern: "XX-[0-9]{4}", severity: high, action: block}]\n'));
  t.equal(cfg.scanner.scan(Buffer.from('XX-1234'))[0].action, 'redact');
  t.same(scannerConfigOf(cfg.spec).actions, { high: 'redact' });
});

t.test('per-detector overrides beat per-severity actions', async (t) => {
  const cfg = parseProfile(
    manifest(`  actions: {high: block}
  detectors:
    enable: [custom]
    custom:
      - {id: a, pattern: "AA-[0-9]{4}", severity: high}
      - {id: b, pattern: "BB-[0-9]{4}", severity: high}
    overrides:
      - {id: a, action: redact}
`),
  );
  t.same(cfg.spec.detectors.overrides, [{ id: 'custom.a', action: 'redact' }], 'short id made canonical');
  const byDetector = Object.fromEntries(cfg.scanner.scan(Buffer.from('AA-1234 BB-5678')).map((f) => [f.detector, f.action]));
  t.same(byDetector, { 'custom.a': 'redact', 'custom.b': 'block' });
  const stream = cfg.scanner.openStream();
  const streamed = [...stream.write(Buffer.from('xx AA-12')), ...stream.write(Buffer.from('34 yy')), ...stream.end()];
  t.same(streamed.map((f) => f.action), ['redact'], 'streams too');
  t.equal(cfg.scanner.detectors.find((d) => d.id === 'custom.a')?.action, 'redact', 'listing shows the effective action');

  const err = issuesOf(() =>
    parseProfile(manifest('  detectors:\n    overrides: [{id: pci, action: redact}, {id: nope.nope, action: block}]\n')),
  );
  t.same(err.issues.map((i) => i.path), ['spec.detectors.overrides[0].id', 'spec.detectors.overrides[1].id']);
  const libraryId = [...detectorCatalog().ids][0];
  const dup = issuesOf(() =>
    parseProfile(manifest(`  detectors:\n    overrides: [{id: ${libraryId}, action: redact}, {id: ${libraryId}, action: block}, {id: x}]\n`)),
  );
  t.same(dup.issues.map((i) => [i.path, i.message]), [
    ['spec.detectors.overrides[2].action', 'is required'],
    ['spec.detectors.overrides[1].id', 'duplicate of overrides[0]'],
    ['spec.detectors.overrides[2].id', 'unknown detector id (categories are set with spec.actions)'],
  ]);
});

t.test('version: content identity, stable across formatting', async (t) => {
  const a = parseProfile(manifest('  mode: Protect\n  egress: {default: Deny, allow: [{host: a.example}]}\n'));
  const b = parseProfile(`# a comment\n${manifest('  egress:\n    default: Deny   # trailing\n    allow:\n      - host: a.example\n  mode: Protect\n')}`);
  const c = parseProfile(manifest('  mode: Protect\n  egress: {default: Allow, allow: [{host: a.example}]}\n'));
  const defaultsSpelledOut = parseProfile(manifest('  mode: Protect\n  egress: {default: Deny, allow: [{host: a.example}], deny: []}\n'));
  t.equal(a.version, b.version);
  const rendered = (v: string) =>
    parseProfile(`apiVersion: kubedlp.io/v1alpha1\nkind: RenderedProfile\nprofile: {name: p, version: "${v}"}\nspec: {mode: Protect}\n`);
  t.not(rendered('1').version, rendered('2').version, "a new rendering by the operator is a new version");
  t.equal(a.version, defaultsSpelledOut.version, 'writing a default explicitly changes nothing');
  t.not(a.version, c.version);
});

t.test('a reload that keeps the detector selection reuses the compiled scanner', async (t) => {
  const a = parseProfile(manifest('  mode: Protect\n  detectors: {enable: [pci]}\n  egress: {default: Allow}\n'));
  const b = parseProfile(manifest('  mode: Protect\n  detectors: {enable: [pci]}\n  egress: {default: Deny, allow: [{host: a.example}]}\n'));
  const c = parseProfile(manifest('  mode: Protect\n  detectors: {enable: [pci], overrides: [{id: pci.card-number, action: redact}]}\n'));
  t.not(a.version, b.version);
  t.equal(a.scanner, b.scanner);
  t.not(a.scanner, c.scanner, 'an override is a different scanner');
});

t.test('runtime config is immutable', async (t) => {
  const cfg = parseProfile(manifest('  egress: {allow: [{host: a.example.com}]}\n'));
  t.ok(Object.isFrozen(cfg));
  t.ok(Object.isFrozen(cfg.spec.egress.allow[0]));
  t.throws(() => {
    (cfg.spec as { mode: string }).mode = 'Protect';
  }, TypeError);
});

t.test('loadProfileFile', async (t) => {
  const dir = t.testdir({ 'p.yaml': manifest('  mode: Protect\n') });
  const cfg = await loadProfileFile(join(dir, 'p.yaml'));
  t.equal(cfg.spec.mode, 'Protect');
  t.equal(cfg.source, join(dir, 'p.yaml'));
  await t.rejects(loadProfileFile(join(dir, 'missing.yaml')), { code: 'KDLP_PROFILE_UNREADABLE', issues: [{ path: '', message: /ENOENT/ }] });
  writeFileSync(join(dir, 'bad.yaml'), manifest('  mode: 3\n'));
  await t.rejects(loadProfileFile(join(dir, 'bad.yaml')), { code: 'KDLP_PROFILE_INVALID', source: join(dir, 'bad.yaml') });
});

t.test('the schema is a Kubernetes structural schema', async (t) => {
  // What the operator will put in the CRD: no $ref, no const, no
  // additionalProperties next to properties, descriptions everywhere.
  const problems: string[] = [];
  const walk = (s: Record<string, unknown>, path: string) => {
    if ('$ref' in s || '$id' in s) problems.push(`${path}: $ref/$id`);
    if ('const' in s) problems.push(`${path}: const`);
    if ('uniqueItems' in s) problems.push(`${path}: uniqueItems`);
    if (s.properties && 'additionalProperties' in s) problems.push(`${path}: additionalProperties with properties`);
    if (s.anyOf && !s['x-kubernetes-int-or-string']) problems.push(`${path}: anyOf`);
    if (typeof s.type !== 'string' && !s['x-kubernetes-int-or-string']) problems.push(`${path}: no type`);
    if (typeof s.description !== 'string' && path !== '' && !path.endsWith('[]')) problems.push(`${path}: no description`);
    for (const [k, v] of Object.entries((s.properties ?? {}) as Record<string, Record<string, unknown>>)) walk(v, `${path}.${k}`);
    if (s.items) walk(s.items as Record<string, unknown>, `${path}[]`);
  };
  walk(JSON.parse(JSON.stringify(SecurityProfileSpecSchema)), '');
  t.same(problems, []);
});
