// What to do next with a tenant's interception CA, as a pure function of its
// state and the clock. Clients trust what was in the bundle when they
// started (the combined bundle is built at pod start), so a new CA is
// published long before it signs:
//   1. add-next   the next CA joins ca.crt; the current one still signs
//   2. switch     after `overlapMs`: the next CA signs (sidecars reload it);
//                 the old one stays trusted
//   3. drop-old   after another `overlapMs`: every sidecar signs with the new
//                 CA, the old one leaves ca.crt
// A pod started before step 1 and still running after step 2 trusts only the
// old CA: `overlapMs` is how long a pod may run across a rotation.
import type { TenantCaState } from './tenant-ca-secret';

export interface TenantCaPolicy {
  /** Lifetime of a new CA. Default 365 days. */
  lifetimeMs: number;
  /** Start a rotation when less than this fraction of the signing CA's lifetime is left. Default 1/3. */
  renewFraction: number;
  /** Wait between the steps of a rotation. Default 30 days. */
  overlapMs: number;
}

const DAY = 86_400_000;
export const DEFAULT_TENANT_CA_POLICY: TenantCaPolicy = { lifetimeMs: 365 * DAY, renewFraction: 1 / 3, overlapMs: 30 * DAY };

export type TenantCaStep =
  | { kind: 'create'; why: string }
  | { kind: 'add-next'; why: string }
  | { kind: 'switch'; why: string }
  | { kind: 'drop-old'; why: string }
  | { kind: 'wait'; until: Date; why: string }
  | { kind: 'none' }
  /** A cert-manager CA that cannot be used: reported, never replaced by the operator. */
  | { kind: 'unusable'; why: string };

export function planTenantCa(
  state: TenantCaState | { problems: string[]; external: boolean } | undefined,
  now: Date,
  policy: TenantCaPolicy,
  forceRotation = false,
): TenantCaStep {
  if (!state) return { kind: 'create', why: 'no CA for this tenant yet' };
  if (!('material' in state) || state.problems.length > 0) {
    const why = `the Secret is not a usable CA: ${state.problems.join('; ')}`;
    return state.external ? { kind: 'unusable', why } : { kind: 'create', why };
  }
  if (state.signing.notAfter <= now) {
    return state.external ? { kind: 'unusable', why: 'the CA from cert-manager has expired' } : { kind: 'create', why: 'the signing CA has expired' };
  }
  // cert-manager renews its own Certificates; the operator only consumes them.
  if (state.external) return { kind: 'none' };
  const settled = new Date(state.material.changedAt.getTime() + policy.overlapMs);
  if (state.next) {
    if (now < settled) return { kind: 'wait', until: settled, why: 'clients are picking up the bundle with the next CA' };
    return { kind: 'switch', why: 'the next CA has been trusted for the overlap period' };
  }
  const old = state.trusted.filter((t) => t.fingerprint !== state.signing.fingerprint);
  if (old.length > 0) {
    const expired = old.every((t) => t.notAfter <= now);
    if (now < settled && !expired) return { kind: 'wait', until: settled, why: 'sidecars are switching to the new CA' };
    return { kind: 'drop-old', why: `${old.length} CA(s) no longer sign anything` };
  }
  if (forceRotation) return { kind: 'add-next', why: 'CA rotation requested' };
  const total = state.signing.notAfter.getTime() - state.signing.notBefore.getTime();
  const left = total <= 0 ? 0 : (state.signing.notAfter.getTime() - now.getTime()) / total;
  if (left < policy.renewFraction) return { kind: 'add-next', why: `the signing CA expires ${state.signing.notAfter.toISOString()}` };
  return { kind: 'none' };
}
