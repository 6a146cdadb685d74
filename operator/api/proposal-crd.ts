// The SecurityProfileProposal CRD (operator/discover/proposal-object.ts says
// why proposals are their own kind). spec.profile keeps unknown fields: it is
// a suggestion to review, validated when a user applies it as a
// SecurityProfile (whose CRD carries the schema and CEL rules), so a schema
// change never makes the operator's own writes fail.
import type { V1CustomResourceDefinition, V1JSONSchemaProps } from '@kubernetes/client-node';
import { GROUP, VERSION } from './names';

const strings = (description: string): V1JSONSchemaProps => ({ type: 'array', items: { type: 'string' }, description });
const int = (description: string): V1JSONSchemaProps => ({ type: 'integer', description });
const str = (description: string): V1JSONSchemaProps => ({ type: 'string', description });

export const PROPOSAL_KIND = 'SecurityProfileProposal';
export const PROPOSAL_PLURAL = 'securityprofileproposals';

export function buildProposalCRD(): V1CustomResourceDefinition {
  const spec: V1JSONSchemaProps = {
    type: 'object',
    description: 'A SecurityProfile spec learned from the egress the sidecars of this namespace observed in Monitor mode, with its evidence.',
    properties: {
      // The generated model spells extensions x_kubernetes_*; the wire (and YAML) form is this one.
      profile: {
        type: 'object',
        'x-kubernetes-preserve-unknown-fields': true,
        description: 'The suggested SecurityProfile spec: `kube-dlp profile suggest --namespace NS` prints it as a manifest with the evidence as comments.',
      } as V1JSONSchemaProps,
      evidence: {
        type: 'object',
        description: 'Why each line is there, as counts only (no values, no paths).',
        properties: {
          egress: strings('Evidence per entry of profile.egress.allow, in the same order.'),
          detectors: strings('Evidence per entry of profile.detectors.overrides, in the same order.'),
          excluded: strings('What was seen but left out, and why.'),
        },
      },
      observed: {
        type: 'object',
        description: 'The observation behind the proposal.',
        properties: {
          pods: int('Injected pods found in the namespace.'),
          answered: int('Pods whose /observed answered.'),
          skipped: int('Pods that did not answer (no IP yet, refused, timed out, not a summary).'),
          sources: int('Sidecar summaries merged.'),
          requests: int('Requests observed.'),
          evicted: int('Destinations dropped by sidecars whose summary was full.'),
          since: str('Start of the oldest summary merged.'),
          until: str('When the newest summary was taken.'),
        },
      },
    },
  };
  return {
    apiVersion: 'apiextensions.k8s.io/v1',
    kind: 'CustomResourceDefinition',
    metadata: {
      name: `${PROPOSAL_PLURAL}.${GROUP}`,
      labels: { 'app.kubernetes.io/name': 'kube-dlp', 'app.kubernetes.io/component': 'crd' },
    },
    spec: {
      group: GROUP,
      scope: 'Namespaced',
      names: {
        kind: PROPOSAL_KIND,
        listKind: `${PROPOSAL_KIND}List`,
        plural: PROPOSAL_PLURAL,
        singular: PROPOSAL_KIND.toLowerCase(),
        shortNames: ['spp'],
        categories: ['kube-dlp'],
      },
      versions: [
        {
          name: VERSION,
          served: true,
          storage: true,
          schema: {
            openAPIV3Schema: {
              type: 'object',
              description: `${PROPOSAL_KIND}: kube-dlp's suggested profile for a namespace, written by the operator.`,
              properties: {
                apiVersion: { type: 'string', description: 'kubedlp.io/v1alpha1' },
                kind: { type: 'string', description: PROPOSAL_KIND },
                metadata: { type: 'object' },
                spec,
              },
            },
          },
          additionalPrinterColumns: [
            { name: 'Pods', type: 'integer', jsonPath: '.spec.observed.answered', description: 'Pods that answered.' },
            { name: 'Skipped', type: 'integer', jsonPath: '.spec.observed.skipped', description: 'Pods that did not answer.' },
            { name: 'Requests', type: 'integer', jsonPath: '.spec.observed.requests', description: 'Requests observed.' },
            { name: 'Until', type: 'string', jsonPath: '.spec.observed.until', description: 'Newest observation.' },
            { name: 'Age', type: 'date', jsonPath: '.metadata.creationTimestamp' },
          ],
        },
      ],
    },
  };
}
