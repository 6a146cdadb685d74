// The two CustomResourceDefinitions, built from the TypeBox schemas: the
// spec from proxy/profile/schema.ts (the same definition the sidecar and the
// CLI validate with), the status from status-schema.ts, plus the CEL rules
// and the bounds they need (cel-rules.ts). crds/*.yaml is this, serialised
// by operator/crd/generate.ts; a unit test fails when the files are stale.
import type { TSchema } from '@sinclair/typebox';
import type { V1CustomResourceDefinition, V1JSONSchemaProps } from '@kubernetes/client-node';
import { SecurityProfileSpecSchema } from '../../proxy/profile/schema';
import { CrdSchemaError } from '../errors';
import { CEL_RULES, CRD_BOUNDS, type SchemaPath } from './cel-rules';
import { CONDITION_READY } from './conditions';
import {
  GROUP,
  KIND_CLUSTER_SECURITY_PROFILE,
  KIND_SECURITY_PROFILE,
  PLURAL_CLUSTER_SECURITY_PROFILES,
  PLURAL_SECURITY_PROFILES,
  VERSION,
} from './names';
import { SecurityProfileStatusSchema } from './status-schema';

type JsonSchema = Record<string, unknown>;

/** TypeBox keeps its bookkeeping under symbol keys, which JSON drops: what remains is plain JSON Schema. */
function plain(schema: TSchema): JsonSchema {
  return JSON.parse(JSON.stringify(schema)) as JsonSchema;
}

function nodeAt(root: JsonSchema, path: SchemaPath): JsonSchema {
  let node = root;
  for (const step of path) {
    const next = step === '[]' ? node.items : (node.properties as Record<string, unknown> | undefined)?.[step];
    if (typeof next !== 'object' || next === null) {
      throw new CrdSchemaError(`spec schema has no ${path.join('.')} (stopped at ${step})`);
    }
    node = next as JsonSchema;
  }
  return node;
}

/**
 * A field with a default is never missing once the API server has defaulted
 * the object, so `required` adds nothing for it, and worse: the API server
 * validates each `default` against the schema without first applying the
 * nested defaults, so `default: {}` on an object whose defaulted fields are
 * required is rejected. TypeBox lists them as required because that is what
 * the proxy sees after Value.Default; the CRD drops them from `required`.
 */
function dropRequiredWithDefaults(node: unknown): void {
  if (Array.isArray(node)) return node.forEach(dropRequiredWithDefaults);
  if (typeof node !== 'object' || node === null) return;
  const schema = node as JsonSchema;
  const properties = schema.properties as Record<string, JsonSchema> | undefined;
  if (properties && Array.isArray(schema.required)) {
    const required = (schema.required as string[]).filter((name) => properties[name]?.default === undefined);
    if (required.length > 0) schema.required = required;
    else delete schema.required;
  }
  for (const value of Object.values(schema)) dropRequiredWithDefaults(value);
}

/** The spec's openAPIV3Schema: the TypeBox definition plus CEL rules and their bounds. */
export function specSchema(): JsonSchema {
  const root = plain(SecurityProfileSpecSchema);
  dropRequiredWithDefaults(root);
  for (const bound of CRD_BOUNDS) {
    const node = nodeAt(root, bound.at);
    // A bound the TypeBox schema already carries wins: then the proxy
    // enforces it too, and the CRD_BOUNDS entry is merely redundant.
    if (bound.maxItems !== undefined) node.maxItems ??= bound.maxItems;
    if (bound.maxLength !== undefined) node.maxLength ??= bound.maxLength;
  }
  for (const { at, ...rule } of CEL_RULES) {
    const node = nodeAt(root, at);
    const list = (node['x-kubernetes-validations'] as unknown[] | undefined) ?? [];
    list.push(rule);
    node['x-kubernetes-validations'] = list;
  }
  return root;
}

function resourceSchema(kind: string, scope: string): V1JSONSchemaProps {
  return {
    type: 'object',
    description: `${kind}: ${scope} data-loss-prevention policy for kube-dlp's egress proxy.`,
    properties: {
      apiVersion: { type: 'string', description: 'kubedlp.io/v1alpha1' },
      kind: { type: 'string', description: kind },
      metadata: { type: 'object' },
      spec: specSchema() as V1JSONSchemaProps,
      status: plain(SecurityProfileStatusSchema) as V1JSONSchemaProps,
    },
  };
}

const PRINTER_COLUMNS = [
  { name: 'Mode', type: 'string', jsonPath: '.spec.mode', description: 'Monitor or Protect.' },
  { name: 'Detectors', type: 'integer', jsonPath: '.status.detectors', description: 'Detectors that run.' },
  { name: 'Namespaces', type: 'integer', jsonPath: '.status.namespaces', description: 'Namespaces using it.' },
  {
    name: 'Ready',
    type: 'string',
    jsonPath: `.status.conditions[?(@.type=="${CONDITION_READY}")].status`,
    description: 'Validated, compiled and rendered.',
  },
  { name: 'Age', type: 'date', jsonPath: '.metadata.creationTimestamp' },
];

function crd(kind: string, plural: string, scope: 'Namespaced' | 'Cluster', shortName: string): V1CustomResourceDefinition {
  return {
    apiVersion: 'apiextensions.k8s.io/v1',
    kind: 'CustomResourceDefinition',
    metadata: {
      name: `${plural}.${GROUP}`,
      labels: { 'app.kubernetes.io/name': 'kube-dlp', 'app.kubernetes.io/component': 'crd' },
    },
    spec: {
      group: GROUP,
      scope,
      names: {
        kind,
        listKind: `${kind}List`,
        plural,
        singular: kind.toLowerCase(),
        shortNames: [shortName],
        categories: ['kube-dlp'],
      },
      versions: [
        {
          name: VERSION,
          served: true,
          storage: true,
          schema: {
            openAPIV3Schema: resourceSchema(kind, scope === 'Cluster' ? 'cluster-wide' : 'namespaced'),
          },
          subresources: { status: {} },
          additionalPrinterColumns: PRINTER_COLUMNS,
        },
      ],
    },
  };
}

/** Both CRDs, in a stable order. */
export function buildCRDs(): V1CustomResourceDefinition[] {
  return [
    crd(KIND_CLUSTER_SECURITY_PROFILE, PLURAL_CLUSTER_SECURITY_PROFILES, 'Cluster', 'csp'),
    crd(KIND_SECURITY_PROFILE, PLURAL_SECURITY_PROFILES, 'Namespaced', 'sp'),
  ];
}
