// The proxy's uid, chosen per pod. Transparent capture exempts the proxy's
// own connections by uid (init-iptables' `--uid-owner` RETURN rule), so a
// process of the pod running as that uid goes out uninspected. Admission sees
// the spec, not the image: a fixed uid could be baked into an image
// (`USER 1337`) and nothing in the pod spec would show it. A uid drawn by the
// webhook at admission, from a range no image picks by convention, is not
// known to the image in advance; the policy (pod-rules.ts) then only checks
// that the sidecar and the init container agree on it and that it is in the
// range, and that no app container asks for it in its spec.
import { randomInt } from 'node:crypto';
import type { Pod } from './pod';

/**
 * 2^20: above the ids images use by convention (system users below 1000,
 * regular users from 1000, nobody 65534, 65532 for distroless). Also far
 * from root: a proxy uid of 0 would exempt every root process.
 */
export const PROXY_UID_MIN = 2 ** 20;
/** 2^31 - 2: Kubernetes accepts runAsUser up to 2^31 - 1; one below keeps clear of the (uid_t)-1 style sentinels some tools use. */
export const PROXY_UID_MAX = 2 ** 31 - 2;

/** Picks the proxy uid for a pod about to be injected (a fixed one in golden tests). */
export type ProxyUidSource = (pod: Pod) => number;

export function inProxyUidRange(uid: unknown): uid is number {
  return Number.isInteger(uid) && (uid as number) >= PROXY_UID_MIN && (uid as number) <= PROXY_UID_MAX;
}

interface IdFields {
  runAsUser?: unknown;
  runAsGroup?: unknown;
  fsGroup?: unknown;
  supplementalGroups?: unknown;
}

/** Every uid and gid the pod spec names (pod and container level): the proxy uid must be none of them. */
export function idsNamedBy(pod: Pod): Set<number> {
  const ids = new Set<number>();
  const add = (sc: IdFields | undefined) => {
    if (!sc || typeof sc !== 'object') return;
    for (const v of [sc.runAsUser, sc.runAsGroup, sc.fsGroup, ...(Array.isArray(sc.supplementalGroups) ? sc.supplementalGroups : [])]) {
      if (Number.isInteger(v)) ids.add(v as number);
    }
  };
  add(pod.spec.securityContext as IdFields | undefined);
  const ephemeral = (pod.spec as { ephemeralContainers?: { securityContext?: IdFields }[] }).ephemeralContainers ?? [];
  for (const c of [...pod.spec.containers, ...(pod.spec.initContainers ?? []), ...ephemeral]) add(c.securityContext as IdFields | undefined);
  return ids;
}

/**
 * A uid from the operating system's CSPRNG, uniform over the range, none the
 * pod names. `draw` is injectable for the test of the exclusion loop only;
 * the webhook always uses crypto.randomInt.
 */
export function randomProxyUid(pod: Pod, draw: (min: number, maxExclusive: number) => number = randomInt): number {
  const taken = idsNamedBy(pod);
  // A pod names a handful of ids out of ~2^31: a second draw is already rare;
  // the bound only turns a broken `draw` into an error instead of a hang.
  for (let i = 0; i < 64; i++) {
    const uid = draw(PROXY_UID_MIN, PROXY_UID_MAX + 1);
    if (!taken.has(uid)) return uid;
  }
  throw new Error('could not draw a proxy uid the pod does not already use');
}
