// The CRDs come from the TypeBox schema (one source of truth); these tests
// fail when the generated schema stops being one the API server accepts as
// structural (whether crds/*.yaml is stale: test/unit/generated-files.test.ts). Whether the API server accepts
// the CEL rules and rejects bad profiles is tested against a real one in
// test/integration/operator-crds.test.ts.
import t from 'tap';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';
import { buildCRDs, specSchema } from '../../operator/api/crds';
import { CEL_RULES } from '../../operator/api/cel-rules';
import { repoRoot } from '../../operator/crd/generate';
import { SecurityProfileSpecSchema } from '../../proxy/profile/schema';

const ROOT = repoRoot(__dirname);

type Node = Record<string, unknown>;

/** Structural-schema rules the API server enforces (apiextensions' structural package). */
function structuralProblems(node: Node, path: string, out: string[]): void {
  const intOrString = node['x-kubernetes-int-or-string'] === true;
  if (node.type === undefined && !intOrString && node['x-kubernetes-preserve-unknown-fields'] !== true) {
    out.push(`${path}: no type`);
  }
  if (node.$ref !== undefined || node.oneOf !== undefined || node.const !== undefined) out.push(`${path}: $ref/oneOf/const`);
  if (node.anyOf !== undefined && !intOrString) out.push(`${path}: anyOf outside int-or-string`);
  if (node.additionalProperties !== undefined && node.properties !== undefined) out.push(`${path}: additionalProperties next to properties`);
  if (node.uniqueItems !== undefined) out.push(`${path}: uniqueItems`);
  const props = (node.properties ?? {}) as Record<string, Node>;
  for (const [k, v] of Object.entries(props)) structuralProblems(v, `${path}.${k}`, out);
  if (node.items) structuralProblems(node.items as Node, `${path}[]`, out);
}

t.test('both CRDs: structural schema, status subresource, printer columns', async (t) => {
  const crds = buildCRDs();
  t.same(crds.map((c) => [c.metadata!.name, c.spec.scope]), [
    ['clustersecurityprofiles.kubedlp.io', 'Cluster'],
    ['securityprofiles.kubedlp.io', 'Namespaced'],
  ]);
  for (const crd of crds) {
    const version = crd.spec.versions[0];
    t.equal(version.name, 'v1alpha1');
    t.same(version.subresources, { status: {} });
    t.same(version.additionalPrinterColumns!.map((c) => c.name), ['Mode', 'Detectors', 'Namespaces', 'Ready', 'Age']);
    const problems: string[] = [];
    const name = crd.metadata?.name ?? '(CRD without a name)';
    structuralProblems(version.schema!.openAPIV3Schema as Node, name, problems);
    t.same(problems, [], name);
    const status = (version.schema!.openAPIV3Schema!.properties!.status as Node).properties as Record<string, Node>;
    t.same(Object.keys(status).sort(), ['conditions', 'detectors', 'injectedPods', 'namespaces', 'observedGeneration']);
    t.equal(status.conditions['x-kubernetes-list-type'], 'map');
  }
});

/** Every field of the TypeBox schema with its type, enum and default, keyed by path. */
function fields(node: Node, path: string, out: Map<string, unknown>): Map<string, unknown> {
  out.set(path, { type: node.type, enum: node.enum, default: node.default, description: node.description });
  for (const [k, v] of Object.entries((node.properties ?? {}) as Record<string, Node>)) fields(v, `${path}.${k}`, out);
  if (node.items) fields(node.items as Node, `${path}[]`, out);
  return out;
}

t.test('the CRD spec schema carries every field of the TypeBox schema unchanged', async (t) => {
  const fromTypeBox = fields(JSON.parse(JSON.stringify(SecurityProfileSpecSchema)) as Node, 'spec', new Map());
  const fromCrd = fields(specSchema(), 'spec', new Map());
  t.same([...fromCrd.keys()], [...fromTypeBox.keys()]);
  for (const [path, value] of fromTypeBox) t.same(fromCrd.get(path), value, path);
  // kubectl explain shows a list's description for its items; fields need their own.
  const documented = [...fromTypeBox].filter(([path]) => !path.endsWith('[]'));
  for (const [path, value] of documented) t.ok((value as { description?: string }).description, `${path} documented`);
});

t.test('required keeps only fields without a default (the API server validates defaults un-defaulted)', async (t) => {
  const spec = specSchema();
  t.equal(spec.required, undefined, 'every top-level spec field has a default');
  const custom = ((spec.properties as Record<string, Node>).detectors.properties as Record<string, Node>).custom;
  t.same((custom.items as Node).required, ['id', 'pattern']);
});

t.test('each CEL rule sits where cel-rules.ts says, with its cost bounds', async (t) => {
  const spec = specSchema();
  for (const rule of CEL_RULES) {
    let node = spec as Node;
    for (const step of rule.at) node = (step === '[]' ? node.items : (node.properties as Record<string, Node>)[step]) as Node;
    const rules = node['x-kubernetes-validations'] as { rule: string; message: string }[];
    t.ok(rules.some((r) => r.rule === rule.rule && r.message === rule.message), rule.message);
  }
  const custom = ((spec.properties as Record<string, Node>).detectors.properties as Record<string, Node>).custom;
  t.equal(custom.maxItems, 256);
  t.equal(((custom.items as Node).properties as Record<string, Node>).id.maxLength, 63);
});

t.test('crds/Kustomization lists exactly the generated CRD files', async (t) => {
  const k = parse(readFileSync(join(ROOT, 'crds', 'Kustomization'), 'utf8')) as { resources: string[] };
  t.same(k.resources.sort(), ['kubedlp.io_clustersecurityprofiles.yaml', 'kubedlp.io_securityprofileproposals.yaml', 'kubedlp.io_securityprofiles.yaml']);
});
