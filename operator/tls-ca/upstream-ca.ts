// spec.tls.upstreamCA.configMapRef, resolved: the operator reads the
// ConfigMap and puts its PEM bundle into the rendered profile as
// upstreamCA.pem in place of the reference, which is all the sidecar reads. The ConfigMap lives where
// the profile's author has authority: the profile's namespace for a
// SecurityProfile, the operator's namespace for a ClusterSecurityProfile.
import { KubeApiError } from '../errors';
import type { KubeClient } from '../kube/client';
import { CONFIG_MAPS } from '../kube/resources';
import type { KubeObject } from '../model/kube-object';
import type { ProfileView } from '../model/views';
import { pemBundleProblem } from '../../proxy/tls/pem-bundle';

export type UpstreamCaResolution = { ok: true; spec: unknown } | { ok: false; reason: string };

interface TlsShape {
  tls?: { upstreamCA?: { pem?: string; configMapRef?: { name?: string; key?: string } } };
}

/** The spec with upstreamCA.pem filled from its ConfigMap; the spec unchanged when it names none. */
export async function resolveUpstreamCa(profile: ProfileView, operatorNamespace: string, client: KubeClient): Promise<UpstreamCaResolution> {
  const spec = (profile.spec ?? {}) as TlsShape;
  const ref = spec.tls?.upstreamCA?.configMapRef;
  if (!ref?.name) return { ok: true, spec: profile.spec };
  const namespace = profile.namespace ?? operatorNamespace;
  const key = ref.key ?? 'ca.crt';
  const where = `ConfigMap ${namespace}/${ref.name}`;
  let cm: KubeObject;
  try {
    cm = await client.get<KubeObject>(CONFIG_MAPS, ref.name, namespace);
  } catch (err) {
    if (err instanceof KubeApiError && err.notFound) return { ok: false, reason: `tls.upstreamCA.configMapRef: ${where} not found` };
    throw err;
  }
  const pem = (cm.data as Record<string, string> | undefined)?.[key];
  if (pem === undefined) return { ok: false, reason: `tls.upstreamCA.configMapRef: ${where} has no key ${key}` };
  const problem = pemBundleProblem(pem);
  if (problem) return { ok: false, reason: `tls.upstreamCA.configMapRef: ${where} key ${key}: ${problem}` };
  // Only pem: the sidecar never sees the reference (exactly one of the two, as for a written profile).
  return { ok: true, spec: { ...spec, tls: { ...spec.tls, upstreamCA: { pem } } } };
}
