// Status of SecurityProfile and ClusterSecurityProfile, defined with TypeBox
// like the spec, so the CRD's status schema and the TS type are one thing.
// Conditions follow metav1.Condition exactly (kubectl wait, kstatus and
// dashboards understand that shape).
import { Type, type Static } from '@sinclair/typebox';

export const ConditionSchema = Type.Object(
  {
    type: Type.String({ maxLength: 316, description: 'Ready or DetectorsCompiled.' }),
    status: Type.Unsafe<'True' | 'False' | 'Unknown'>({
      type: 'string',
      enum: ['True', 'False', 'Unknown'],
      description: 'True, False or Unknown.',
    }),
    observedGeneration: Type.Optional(
      Type.Integer({ minimum: 0, format: 'int64', description: 'metadata.generation the condition was computed from.' }),
    ),
    lastTransitionTime: Type.String({ format: 'date-time', description: 'When status last changed.' }),
    reason: Type.String({
      maxLength: 1024,
      minLength: 1,
      pattern: '^[A-Za-z]([A-Za-z0-9_,:]*[A-Za-z0-9_])?$',
      description: 'CamelCase reason, one of the operator\'s constants.',
    }),
    message: Type.String({ maxLength: 32768, description: 'Human-readable details, e.g. which detector failed and why.' }),
  },
  { description: 'A metav1.Condition.' },
);

export const SecurityProfileStatusSchema = Type.Object(
  {
    observedGeneration: Type.Optional(
      Type.Integer({ minimum: 0, format: 'int64', description: 'metadata.generation the operator last processed.' }),
    ),
    conditions: Type.Optional(
      Type.Array(ConditionSchema, {
        'x-kubernetes-list-type': 'map',
        'x-kubernetes-list-map-keys': ['type'],
        maxItems: 8,
        description: 'Ready, DetectorsCompiled.',
      }),
    ),
    detectors: Type.Optional(
      Type.Integer({ minimum: 0, description: 'Detectors that run with this profile (library and custom), once compiled.' }),
    ),
    namespaces: Type.Optional(
      Type.Integer({ minimum: 0, description: 'Opted-in namespaces that select this profile.' }),
    ),
    injectedPods: Type.Optional(
      Type.Integer({ minimum: 0, description: 'Pods with the kube-dlp sidecar in those namespaces.' }),
    ),
  },
  { description: 'Observed state, written by the operator.' },
);

export type Condition = Static<typeof ConditionSchema>;
export type SecurityProfileStatus = Static<typeof SecurityProfileStatusSchema>;
