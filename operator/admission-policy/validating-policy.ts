// The ValidatingAdmissionPolicy and its binding, as pure functions of the
// operator's settings. The API server evaluates the policy itself: it keeps
// refusing unprotected pods in opted-in namespaces while the operator (and so
// the injection webhook) is down, was deleted from the webhook configuration,
// or runs with failurePolicy Ignore. The rules are pod-rules.ts.
import { INJECTION_ENABLED, LABEL_INJECTION, LABEL_NAMESPACE_NAME, SYSTEM_NAMESPACES } from '../api/names';
import type { KubeObject } from '../model/kube-object';
import { podRules, policyVariables, type SidecarIdentity } from './pod-rules';

export const ADMISSION_POLICY_NAME = 'kube-dlp-pod-protection';

const labels = { 'app.kubernetes.io/name': 'kube-dlp', 'app.kubernetes.io/component': 'admission-policy' };

export interface AdmissionPolicyOptions {
  identity: SidecarIdentity;
  name?: string;
}

export function desiredAdmissionPolicy(opts: AdmissionPolicyOptions): KubeObject {
  return {
    apiVersion: 'admissionregistration.k8s.io/v1',
    kind: 'ValidatingAdmissionPolicy',
    metadata: { name: opts.name ?? ADMISSION_POLICY_NAME, labels },
    spec: {
      // An expression that cannot be evaluated refuses the pod: the policy exists to fail closed.
      failurePolicy: 'Fail',
      matchConstraints: {
        resourceRules: [
          { apiGroups: [''], apiVersions: ['v1'], operations: ['CREATE'], resources: ['pods'] },
          // kubectl debug adds containers to a running pod through this subresource.
          { apiGroups: [''], apiVersions: ['v1'], operations: ['UPDATE'], resources: ['pods/ephemeralcontainers'] },
        ],
      },
      variables: policyVariables(),
      validations: podRules().map((r) => ({
        expression: r.expression(opts.identity),
        messageExpression: r.messageExpression(opts.identity),
        reason: 'Forbidden',
      })),
    },
  };
}

export interface AdmissionPolicyBindingOptions {
  operatorNamespace: string;
  name?: string;
  policyName?: string;
  /** Extra namespace labels to require (tests sharing one control plane). */
  extraNamespaceLabels?: Record<string, string>;
}

/**
 * Bound to the namespaces the operator labelled as opted in, the same
 * selection as the injection webhook: system namespaces and the operator's
 * own are excluded by name, so the control plane and the operator can always
 * start their pods.
 */
export function desiredAdmissionPolicyBinding(opts: AdmissionPolicyBindingOptions): KubeObject {
  const policyName = opts.policyName ?? ADMISSION_POLICY_NAME;
  return {
    apiVersion: 'admissionregistration.k8s.io/v1',
    kind: 'ValidatingAdmissionPolicyBinding',
    metadata: { name: opts.name ?? policyName, labels },
    spec: {
      policyName,
      validationActions: ['Deny'],
      matchResources: {
        namespaceSelector: {
          matchLabels: { [LABEL_INJECTION]: INJECTION_ENABLED, ...opts.extraNamespaceLabels },
          matchExpressions: [
            { key: LABEL_NAMESPACE_NAME, operator: 'NotIn', values: [...new Set([...SYSTEM_NAMESPACES, opts.operatorNamespace])] },
          ],
        },
      },
    },
  };
}
