// The CRD's CEL rules (x-kubernetes-validations) and proxy/profile/validate.ts
// must reject the same specs: the API server enforces the first at `kubectl
// apply`, the sidecar and `kube-dlp profile validate` the second. Each rule in
// the generated CRD is evaluated here with a CEL evaluator from npm on every
// node it applies to, and the same spec goes through validate.ts; a table of
// cases per rule pins the intended verdict, and a seeded property checks that
// the two agree on generated specs the table did not think of.
import t from 'tap';
import fc from 'fast-check';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { parse as parseCel } from '@marcbachmann/cel-js';
import { semanticIssues } from '../../proxy/profile/validate';
import { detectorCatalog } from '../../proxy/profile/catalog';

const ROOT = join(__dirname, '..', '..');
const CRD_FILES = ['crds/kubedlp.io_securityprofiles.yaml', 'crds/kubedlp.io_clustersecurityprofiles.yaml'];

type Spec = Record<string, unknown>;
interface SchemaNode {
  properties?: Record<string, SchemaNode>;
  items?: SchemaNode;
  'x-kubernetes-validations'?: { rule: string; message: string }[];
}
interface CrdRule {
  /** Property names under spec, '[]' for each list item. */
  at: string[];
  rule: string;
  message: string;
}

function rulesOf(file: string): CrdRule[] {
  const crd = parseYaml(readFileSync(join(ROOT, file), 'utf8')) as {
    spec: { versions: { schema: { openAPIV3Schema: SchemaNode } }[] };
  };
  const out: CrdRule[] = [];
  const walk = (node: SchemaNode, at: string[]) => {
    for (const v of node['x-kubernetes-validations'] ?? []) out.push({ at, rule: v.rule, message: v.message });
    for (const [key, child] of Object.entries(node.properties ?? {})) walk(child, [...at, key]);
    if (node.items) walk(node.items, [...at, '[]']);
  };
  const spec = crd.spec.versions[0]!.schema.openAPIV3Schema.properties!.spec!;
  walk(spec, []);
  return out;
}

/** The nodes a rule at `at` is evaluated on, with validate.ts-style paths (absent parents: none). */
function nodesAt(value: unknown, at: string[], path = 'spec'): { node: unknown; path: string }[] {
  if (value === undefined || value === null) return [];
  if (at.length === 0) return [{ node: value, path }];
  const [head, ...rest] = at;
  if (head === '[]') {
    return Array.isArray(value) ? value.flatMap((item, i) => nodesAt(item, rest, `${path}[${i}]`)) : [];
  }
  return typeof value === 'object' ? nodesAt((value as Record<string, unknown>)[head!], rest, `${path}.${head}`) : [];
}

const compiled = new Map<string, ReturnType<typeof parseCel>>();
function celRejects(rule: CrdRule, spec: Spec): boolean {
  let program = compiled.get(rule.rule);
  if (!program) compiled.set(rule.rule, (program = parseCel(rule.rule)));
  return nodesAt(spec, rule.at).some(({ node }) => program!({ self: node }) !== true);
}

const catalog = detectorCatalog();
function validateRejects(parity: RuleParity, rule: CrdRule, spec: Spec): boolean {
  const issues = semanticIssues(spec, catalog, 'spec');
  const under = (issuePath: string, nodePath: string) =>
    issuePath === nodePath || issuePath.startsWith(`${nodePath}.`) || issuePath.startsWith(`${nodePath}[`);
  const nodes = nodesAt(spec, rule.at);
  return issues.some((i) => parity.validateMessage.test(i.message) && nodes.some((n) => under(i.path, n.path)));
}

interface RuleParity {
  /** The CEL rule's message in the CRD (identifies the rule). */
  message: string;
  /** The message validate.ts gives for the same mistake. */
  validateMessage: RegExp;
  cases: { name: string; spec: Spec; rejected: boolean }[];
}

const rule = (host: Spec) => ({ egress: { allow: [host] } });
const denyRule = (host: Spec) => ({ egress: { deny: [host] } });

const TABLE: RuleParity[] = [
  {
    message: 'Protect mode with egress.default Deny needs at least one egress.allow rule (or it blocks all egress)',
    validateMessage: /needs at least one egress\.allow rule/,
    cases: [
      { name: 'Protect, Deny, nothing allowed', spec: { mode: 'Protect', egress: { default: 'Deny' } }, rejected: true },
      { name: 'Protect, Deny, empty allow list', spec: { mode: 'Protect', egress: { default: 'Deny', allow: [] } }, rejected: true },
      { name: 'Protect, Deny, one allow rule', spec: { mode: 'Protect', egress: { default: 'Deny', allow: [{ host: 'a.example' }] } }, rejected: false },
      { name: 'Monitor, Deny, nothing allowed', spec: { mode: 'Monitor', egress: { default: 'Deny' } }, rejected: false },
      { name: 'Protect, default Allow', spec: { mode: 'Protect', egress: { default: 'Allow' } }, rejected: false },
      { name: 'Protect, no egress at all', spec: { mode: 'Protect' }, rejected: false },
    ],
  },
  {
    message: 'custom detector ids must be unique ("x" and "custom.x" are the same detector)',
    validateMessage: /^duplicate detector id/,
    cases: [
      { name: 'x and custom.x', spec: { detectors: { custom: [{ id: 'order', pattern: 'a' }, { id: 'custom.order', pattern: 'b' }] } }, rejected: true },
      { name: 'the same id twice', spec: { detectors: { custom: [{ id: 'order', pattern: 'a' }, { id: 'order', pattern: 'b' }] } }, rejected: true },
      { name: 'two ids', spec: { detectors: { custom: [{ id: 'order', pattern: 'a' }, { id: 'custom.ticket', pattern: 'b' }] } }, rejected: false },
      { name: 'no custom detectors', spec: { detectors: { custom: [] } }, rejected: false },
    ],
  },
  {
    message: 'holdBackBytes must not exceed maxBodyBytes',
    validateMessage: /must not exceed inspection\.maxBodyBytes/,
    cases: [
      { name: 'hold back more than the body limit', spec: { inspection: { holdBackBytes: 2048, maxBodyBytes: 1024 } }, rejected: true },
      { name: 'equal', spec: { inspection: { holdBackBytes: 1024, maxBodyBytes: 1024 } }, rejected: false },
      { name: 'smaller', spec: { inspection: { holdBackBytes: 0, maxBodyBytes: 1 } }, rejected: false },
      { name: 'only one of them', spec: { inspection: { holdBackBytes: 1 << 30 } }, rejected: false },
    ],
  },
  {
    message: 'host and cidr are mutually exclusive; use two rules',
    validateMessage: /^host and cidr are mutually exclusive/,
    cases: [
      { name: 'allow: host and cidr', spec: rule({ host: 'a.example', cidr: '10.0.0.0/8' }), rejected: true },
      { name: 'deny: host and cidr', spec: denyRule({ host: 'a.example', cidr: '10.0.0.0/8' }), rejected: true },
      { name: 'allow: host only', spec: rule({ host: 'a.example', ports: [443] }), rejected: false },
      { name: 'deny: cidr only', spec: denyRule({ cidr: '10.0.0.0/8' }), rejected: false },
    ],
  },
  {
    message: 'a rule needs at least one of host, cidr or ports',
    validateMessage: /^a rule needs at least one of host, cidr or ports$/,
    cases: [
      { name: 'allow: only allowUninspectable', spec: rule({ allowUninspectable: true }), rejected: true },
      { name: 'deny: empty rule', spec: denyRule({}), rejected: true },
      { name: 'allow: ports only', spec: rule({ ports: [443] }), rejected: false },
      { name: 'deny: host only', spec: denyRule({ host: 'a.example' }), rejected: false },
    ],
  },
  {
    message: 'allowUninspectable is only meaningful on allow rules',
    validateMessage: /only meaningful on allow rules/,
    cases: [
      { name: 'deny rule with allowUninspectable', spec: denyRule({ host: 'x.example', allowUninspectable: true }), rejected: true },
      { name: 'deny rule with allowUninspectable: false', spec: denyRule({ host: 'x.example', allowUninspectable: false }), rejected: true },
      { name: 'allow rule with allowUninspectable', spec: rule({ host: 'x.example', allowUninspectable: true }), rejected: false },
    ],
  },
  {
    message: 'set exactly one of tenant or namespace',
    validateMessage: /^set exactly one of tenant or namespace$/,
    cases: [
      { name: 'both', spec: { tenancy: { exceptions: [{ tenant: 'a', namespace: 'b' }] } }, rejected: true },
      { name: 'neither', spec: { tenancy: { exceptions: [{}] } }, rejected: true },
      { name: 'tenant', spec: { tenancy: { exceptions: [{ tenant: 'a' }] } }, rejected: false },
      { name: 'namespace', spec: { tenancy: { exceptions: [{ namespace: 'b' }] } }, rejected: false },
    ],
  },
  {
    message: 'a shared-namespace selector needs at least one label',
    validateMessage: /^a shared-namespace selector needs at least one label$/,
    cases: [
      { name: 'no matchLabels', spec: { tenancy: { sharedNamespaces: [{}] } }, rejected: true },
      { name: 'empty matchLabels', spec: { tenancy: { sharedNamespaces: [{ matchLabels: {} }] } }, rejected: true },
      { name: 'one label', spec: { tenancy: { sharedNamespaces: [{ matchLabels: { 'kubedlp.io/shared': 'true' } }] } }, rejected: false },
      { name: 'none shared', spec: { tenancy: { sharedNamespaces: [] } }, rejected: false },
    ],
  },
  {
    message: 'give exactly one of pem or configMapRef',
    validateMessage: /^give exactly one of pem or configMapRef$/,
    cases: [
      { name: 'both', spec: { tls: { upstreamCA: { pem: 'x', configMapRef: { name: 'roots' } } } }, rejected: true },
      { name: 'neither', spec: { tls: { upstreamCA: {} } }, rejected: true },
      { name: 'configMapRef', spec: { tls: { upstreamCA: { configMapRef: { name: 'roots', key: 'ca.crt' } } } }, rejected: false },
      { name: 'no upstreamCA', spec: { tls: {} }, rejected: false },
    ],
  },
];

const crdRules = rulesOf(CRD_FILES[0]!);
const ruleKey = (r: CrdRule) => `${r.at.join('.') || '(spec)'}: ${r.message}`;

t.test('both CRDs carry the same CEL rules, and every one is in the parity table with both verdicts', async (t) => {
  t.ok(crdRules.length >= TABLE.length, `found ${crdRules.length} rules`);
  t.same(rulesOf(CRD_FILES[1]!).map(ruleKey), crdRules.map(ruleKey), 'ClusterSecurityProfile and SecurityProfile agree');
  t.same(
    [...new Set(crdRules.map((r) => r.message))].sort(),
    TABLE.map((p) => p.message).sort(),
    'a new CEL rule needs parity cases here (and a check in validate.ts)',
  );
  for (const p of TABLE) {
    t.ok(p.cases.some((c) => c.rejected) && p.cases.some((c) => !c.rejected), `${p.message}: rejected and accepted cases`);
  }
});

t.test('per rule: the CEL rule and validate.ts give the table verdict', async (t) => {
  for (const parity of TABLE) {
    const rules = crdRules.filter((r) => r.message === parity.message);
    for (const c of parity.cases) {
      const cel = rules.some((r) => celRejects(r, c.spec));
      const ts = rules.some((r) => validateRejects(parity, r, c.spec));
      const verdict = (rejected: boolean) => (rejected ? 'rejects' : 'accepts');
      t.equal(verdict(cel), verdict(c.rejected), `CEL ${parity.message} / ${c.name}`);
      t.equal(verdict(ts), verdict(c.rejected), `validate.ts ${parity.message} / ${c.name}`);
    }
  }
});

// Specs built from the fields the rules read, with values validate.ts accepts
// for every other reason, so a disagreement can only come from a rule.
const egressRule = fc.record(
  {
    host: fc.constantFrom('a.example', '*.b.example'),
    cidr: fc.constantFrom('10.0.0.0/8', 'fd00::/8'),
    ports: fc.constant([443]),
    allowUninspectable: fc.boolean(),
  },
  { requiredKeys: [] },
);
const specArb: fc.Arbitrary<Spec> = fc.record(
  {
    mode: fc.constantFrom('Monitor', 'Protect'),
    egress: fc.record(
      { default: fc.constantFrom('Allow', 'Deny'), allow: fc.array(egressRule, { maxLength: 3 }), deny: fc.array(egressRule, { maxLength: 3 }) },
      { requiredKeys: [] },
    ),
    detectors: fc.record({
      custom: fc.array(
        fc.record({ id: fc.constantFrom('order', 'custom.order', 'ticket', 'custom.ticket', 'iban-x'), pattern: fc.constant('x') }),
        { maxLength: 4 },
      ),
    }),
    inspection: fc.record({ holdBackBytes: fc.nat(4096), maxBodyBytes: fc.nat(4096) }, { requiredKeys: [] }),
    tenancy: fc.record({
      exceptions: fc.array(fc.record({ tenant: fc.constant('acme'), namespace: fc.constant('team-b') }, { requiredKeys: [] }), {
        maxLength: 3,
      }),
    }),
  },
  { requiredKeys: [] },
);

t.test('generated specs: every CEL rule and validate.ts agree', async (t) => {
  let checks = 0;
  fc.assert(
    fc.property(specArb, (spec) => {
      for (const parity of TABLE) {
        for (const r of crdRules.filter((x) => x.message === parity.message)) {
          const cel = celRejects(r, spec);
          const ts = validateRejects(parity, r, spec);
          if (cel !== ts) throw new Error(`${ruleKey(r)}: CEL ${cel ? 'rejects' : 'accepts'}, validate.ts ${ts ? 'rejects' : 'accepts'} ${JSON.stringify(spec)}`);
          checks++;
        }
      }
    }),
    { seed: 18, numRuns: 400 },
  );
  t.ok(checks > 0, `${checks} rule evaluations agreed`);
});
