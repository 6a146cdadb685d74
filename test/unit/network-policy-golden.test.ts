// Golden files for the tenant NetworkPolicy: each
// test/golden/network-policy/NAME.in.yaml holds a profile's tenancy (and the
// namespace, tenant and operator namespace it is rendered for), NAME.out.yaml
// the NetworkPolicy the operator applies (or "# none"). Regenerate with
//   KDLP_UPDATE_GOLDEN=1 npx tap test/unit/network-policy-golden.test.ts
// and review the diff.
//
// Then the selector semantics: without a CNI plugin nothing here can enforce
// a NetworkPolicy (network namespaces have none, and the envtest control plane
// has no nodes), so the rendered policies are evaluated with the rules of the
// NetworkPolicy API (peers ORed, matchLabels ANDed, ports ANDed with peers)
// for namespaces labelled as a cluster labels them. A CNI test belongs to the
// real-node suite.
import t from 'tap';
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse, stringify } from 'yaml';
import { desiredNetworkPolicy, networkPolicyIntentOf } from '../../operator/decide/owned-objects';
import type { KubeObject } from '../../operator/model/kube-object';

const DIR = join(__dirname, '..', 'golden', 'network-policy');
const UPDATE = process.env.KDLP_UPDATE_GOLDEN === '1';

interface Case {
  namespace: string;
  tenant: string;
  operatorNamespace: string;
  tenancy: unknown;
}

const render = (c: Case) => desiredNetworkPolicy(c.namespace, c.tenant, c.operatorNamespace, networkPolicyIntentOf({ tenancy: c.tenancy }));

const inputs = readdirSync(DIR).filter((f) => f.endsWith('.in.yaml')).sort();
t.ok(inputs.length >= 4, 'golden inputs are present');
for (const input of inputs) {
  const name = input.slice(0, -'.in.yaml'.length);
  t.test(name, async (t) => {
    const policy = render(parse(readFileSync(join(DIR, input), 'utf8')) as Case);
    const actual = policy ? stringify(policy, { lineWidth: 0, aliasDuplicateObjects: false }) : '# none: the profile asks for no NetworkPolicy\n';
    const outPath = join(DIR, `${name}.out.yaml`);
    if (UPDATE) writeFileSync(outPath, actual);
    t.ok(existsSync(outPath), `${name}.out.yaml exists (regenerate with KDLP_UPDATE_GOLDEN=1)`);
    if (existsSync(outPath)) t.equal(actual, readFileSync(outPath, 'utf8'), `${name}.out.yaml is up to date (regenerate with KDLP_UPDATE_GOLDEN=1)`);
  });
}

// ---- NetworkPolicy semantics, as the API documents them ----

type Labels = Record<string, string>;
interface Peer {
  namespaceSelector?: { matchLabels?: Labels };
  ipBlock?: { cidr: string; except?: string[] };
}
interface Rule {
  from?: Peer[];
  to?: Peer[];
  ports?: { protocol?: string; port?: number }[];
}
interface Spec {
  policyTypes: string[];
  ingress?: Rule[];
  egress?: Rule[];
}

const selects = (selector: { matchLabels?: Labels }, labels: Labels) => Object.entries(selector.matchLabels ?? {}).every(([k, v]) => labels[k] === v);
const portMatches = (rule: Rule, protocol: string, port: number) =>
  rule.ports === undefined || rule.ports.some((p) => (p.protocol ?? 'TCP') === protocol && (p.port === undefined || p.port === port));

/** Whether a connection from/to a pod in a namespace with these labels is allowed by the policy (ipBlock peers never match pods here). */
function allows(policy: KubeObject, direction: 'Ingress' | 'Egress', namespaceLabels: Labels, protocol = 'TCP', port = 8080): boolean {
  const spec = policy.spec as Spec;
  if (!spec.policyTypes.includes(direction)) return true;
  const rules = (direction === 'Ingress' ? spec.ingress : spec.egress) ?? [];
  return rules.some((r) => {
    const peers = (direction === 'Ingress' ? r.from : r.to) ?? [];
    return portMatches(r, protocol, port) && peers.some((p) => p.namespaceSelector !== undefined && selects(p.namespaceSelector, namespaceLabels));
  });
}

const ns = (name: string, extra: Labels = {}): Labels => ({ 'kubernetes.io/metadata.name': name, ...extra });
const withExceptions = render({
  namespace: 'shop',
  tenant: 'acme',
  operatorNamespace: 'kube-dlp-system',
  tenancy: {
    networkPolicy: {
      allowIngressFrom: [{ matchLabels: { 'kubernetes.io/metadata.name': 'ingress-nginx' } }, { matchLabels: { 'kubedlp.io/monitoring': 'true' } }],
      clusterCidrs: ['10.0.0.0/8', 'fd00::/8'],
    },
  },
})!;

t.test('ingress from a labelled monitoring namespace and the ingress controller is allowed; another tenant is not', async (t) => {
  t.ok(allows(withExceptions, 'Ingress', ns('monitoring', { 'kubedlp.io/monitoring': 'true' }), 'TCP', 15090), 'Prometheus scraping the sidecar');
  t.ok(allows(withExceptions, 'Ingress', ns('ingress-nginx')), 'the ingress controller');
  t.ok(allows(withExceptions, 'Ingress', ns('shop-api', { 'kubedlp.io/tenant': 'acme' })), 'the same tenant');
  t.ok(allows(withExceptions, 'Ingress', ns('kube-dlp-system')), 'the operator');
  t.notOk(allows(withExceptions, 'Ingress', ns('monitoring')), 'the monitoring namespace without the label');
  t.notOk(allows(withExceptions, 'Ingress', ns('rival', { 'kubedlp.io/tenant': 'globex' })), 'another tenant');
  t.notOk(allows(withExceptions, 'Ingress', ns('evil', { 'kubedlp.io/monitoring': 'false' })), 'a label with another value');
});

t.test('egress: the same tenant and DNS in kube-system; not another tenant, not kube-system beyond DNS; external minus the cluster ranges', async (t) => {
  t.ok(allows(withExceptions, 'Egress', ns('shop-db', { 'kubedlp.io/tenant': 'acme' }), 'TCP', 5432));
  t.ok(allows(withExceptions, 'Egress', ns('kube-system'), 'UDP', 53), 'DNS over UDP');
  t.ok(allows(withExceptions, 'Egress', ns('kube-system'), 'TCP', 53), 'DNS over TCP');
  t.notOk(allows(withExceptions, 'Egress', ns('kube-system'), 'TCP', 443), 'kube-system beyond DNS');
  t.notOk(allows(withExceptions, 'Egress', ns('rival', { 'kubedlp.io/tenant': 'globex' })), 'another tenant');
  t.ok(allows(withExceptions, 'Egress', ns('postgres', { 'kubedlp.io/shared': 'true' }), 'TCP', 5432), 'shared infrastructure (the default sharedNamespaces)');
  t.notOk(allows(withExceptions, 'Egress', ns('postgres', { 'kubedlp.io/shared': 'false' }), 'TCP', 5432), 'a shared label with another value');
  const blocks = ((withExceptions.spec as Spec).egress ?? []).flatMap((r) => r.to ?? []).flatMap((p) => (p.ipBlock ? [p.ipBlock] : []));
  t.same(blocks, [
    { cidr: '0.0.0.0/0', except: ['10.0.0.0/8'] },
    { cidr: '::/0', except: ['fd00::/8'] },
  ], 'each family carves out its own cluster ranges');
});
