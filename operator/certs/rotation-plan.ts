// What to do next with the webhook's TLS material, as a pure function of the
// current state and the clock. A rotation never has a moment where the API
// server would reject the serving certificate:
//   1. add-next-ca     the next CA joins the trusted bundle (caBundle); the old one still issues
//   2. switch-to-next  once every API server has the new bundle: the next CA
//                      becomes the signer and a serving certificate from it is served
//   3. drop-old-cas    once every replica serves the new certificate: the old CA leaves the bundle
// Each step waits `propagationMs` after the previous change. A serving
// certificate alone (CA still good) is renewed in one step: its CA is trusted already.
import type { TlsState } from './tls-secret';

export interface RotationPolicy {
  caValidityDays: number;
  servingValidityDays: number;
  /** Renew when less than this fraction of a certificate's lifetime is left. Default 1/3. */
  renewFraction: number;
  /** How long after a change the next step waits: the API servers' webhook informers and every replica's reload. */
  propagationMs: number;
  /** Names the serving certificate must carry. */
  dnsNames: readonly string[];
  ipAddresses: readonly string[];
}

export type RotationStep =
  | { kind: 'create'; why: string }
  | { kind: 'add-next-ca'; why: string }
  | { kind: 'switch-to-next-ca'; why: string }
  | { kind: 'drop-old-cas'; why: string }
  | { kind: 'renew-serving'; why: string }
  | { kind: 'wait'; until: Date; why: string }
  | { kind: 'none' };

export interface PlanInput {
  state: TlsState | undefined;
  now: Date;
  policy: RotationPolicy;
  /** The webhook configuration's caBundle equals the Secret's ca.crt. */
  bundlePublished: boolean;
  /** An operator asked for a CA rotation now (tests, a suspected key leak). */
  forceCaRotation?: boolean;
}

const lifetimeLeft = (notBefore: Date, notAfter: Date, now: Date) => {
  const total = notAfter.getTime() - notBefore.getTime();
  return total <= 0 ? 0 : (notAfter.getTime() - now.getTime()) / total;
};

const sameSet = (a: readonly string[], b: readonly string[]) => a.length === b.length && [...a].sort().join() === [...b].sort().join();

export function planRotation(input: PlanInput): RotationStep {
  const { state, now, policy } = input;
  if (!state) return { kind: 'create', why: 'no TLS material yet' };
  if (state.problems.length > 0) return { kind: 'create', why: `the Secret is inconsistent: ${state.problems.join('; ')}` };
  if (state.signing.notAfter <= now) return { kind: 'create', why: 'the signing CA has expired' };
  const settled = new Date(state.material.changedAt.getTime() + policy.propagationMs);

  if (state.next) {
    if (!input.bundlePublished) return { kind: 'wait', until: settled, why: 'the bundle with the next CA is not yet in the webhook configuration' };
    if (now < settled) return { kind: 'wait', until: settled, why: 'API servers are picking up the bundle with the next CA' };
    return { kind: 'switch-to-next-ca', why: 'the next CA is trusted everywhere' };
  }
  const old = state.trusted.filter((t) => t.fingerprint !== state.signing.fingerprint);
  if (old.length > 0) {
    if (now < settled) return { kind: 'wait', until: settled, why: 'replicas are switching to the serving certificate of the new CA' };
    return { kind: 'drop-old-cas', why: `${old.length} CA(s) no longer issue anything served` };
  }
  if (input.forceCaRotation) return { kind: 'add-next-ca', why: 'CA rotation requested' };
  if (lifetimeLeft(state.signing.notBefore, state.signing.notAfter, now) < policy.renewFraction) {
    return { kind: 'add-next-ca', why: `the signing CA expires ${state.signing.notAfter.toISOString()}` };
  }
  if (lifetimeLeft(state.serving.notBefore, state.serving.notAfter, now) < policy.renewFraction) {
    return { kind: 'renew-serving', why: `the serving certificate expires ${state.serving.notAfter.toISOString()}` };
  }
  if (!sameSet(state.serving.dnsNames, policy.dnsNames) || !sameSet(state.serving.ipAddresses, policy.ipAddresses)) {
    return { kind: 'renew-serving', why: 'the serving certificate names other hosts than the webhook is reached at' };
  }
  return { kind: 'none' };
}

/** Days a new serving certificate is valid: never beyond its CA. */
export function servingDays(policy: RotationPolicy, caNotAfter: Date, now: Date): number {
  const caDaysLeft = Math.floor((caNotAfter.getTime() - now.getTime()) / 86_400_000);
  return Math.max(1, Math.min(policy.servingValidityDays, caDaysLeft));
}
