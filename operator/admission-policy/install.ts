// Installs the policy and its binding with server-side apply at operator
// start (every replica: apply is idempotent, and the proxy image they inject
// is the one the policy must accept). Nothing removes them when the operator
// stops: that is the point.
import { FIELD_MANAGER } from '../api/names';
import type { KubeClient } from '../kube/client';
import { VALIDATING_ADMISSION_POLICIES, VALIDATING_ADMISSION_POLICY_BINDINGS } from '../kube/resources';
import type { SidecarIdentity } from './pod-rules';
import { desiredAdmissionPolicy, desiredAdmissionPolicyBinding } from './validating-policy';

export async function installAdmissionPolicy(client: KubeClient, identity: SidecarIdentity, operatorNamespace: string): Promise<void> {
  // Policy first, so the binding never names a policy that does not exist yet.
  await client.apply(VALIDATING_ADMISSION_POLICIES, desiredAdmissionPolicy({ identity }), { fieldManager: FIELD_MANAGER });
  await client.apply(VALIDATING_ADMISSION_POLICY_BINDINGS, desiredAdmissionPolicyBinding({ operatorNamespace }), { fieldManager: FIELD_MANAGER });
}
