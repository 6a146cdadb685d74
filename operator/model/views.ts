// What the operator keeps of each watched object. Informers store these
// instead of whole objects: a Pod or a 30 KiB tenant-directory ConfigMap
// shrinks to a few fields (and a content hash), which is what keeps the
// operator's memory flat at thousands of namespaces. Each `toXView` is a
// pure function of the object as the API server sends it (JSON).
import { createHash } from 'node:crypto';
import type { SecurityProfileStatus } from '../api/status-schema';
import { EXEMPTION_ANNOTATION_PREFIX, LABEL_INJECTED_POD, type ProfileKindName } from '../api/names';
import { canonicalJson } from '../../proxy/profile/canonical-json';

/** The bits of metadata every view needs. */
interface RawMeta {
  name?: string;
  namespace?: string;
  uid?: string;
  generation?: number;
  resourceVersion?: string;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
  deletionTimestamp?: string | Date;
  ownerReferences?: { uid?: string; kind?: string; name?: string }[];
}
export interface RawObject {
  apiVersion?: string;
  kind?: string;
  metadata?: RawMeta;
  [field: string]: unknown;
}

export interface NamespaceView {
  name: string;
  uid: string;
  labels: Readonly<Record<string, string>>;
  annotations: Readonly<Record<string, string>>;
  terminating: boolean;
}

export interface ProfileView {
  kind: ProfileKindName;
  name: string;
  /** Set for SecurityProfile only. */
  namespace?: string;
  uid: string;
  generation: number;
  /** The spec as stored (API-server defaults applied). */
  spec: unknown;
  status?: SecurityProfileStatus;
}

export interface ServiceView {
  namespace: string;
  name: string;
  clusterIPs: readonly string[];
}

export interface PodView {
  namespace: string;
  name: string;
  ips: readonly string[];
  injected: boolean;
}

/** A ConfigMap or NetworkPolicy the operator owns, reduced to what reconcile compares. */
export interface OwnedView {
  namespace: string;
  name: string;
  labels: Readonly<Record<string, string>>;
  ownerUids: readonly string[];
  /** Hash of `data` (ConfigMap) or `spec` (NetworkPolicy), see contentHash. */
  contentHash: string;
}

const meta = (o: RawObject): RawMeta => o.metadata ?? {};

export function toNamespaceView(o: RawObject): NamespaceView {
  const m = meta(o);
  return {
    name: m.name ?? '',
    uid: m.uid ?? '',
    labels: { ...(m.labels ?? {}) },
    annotations: pickKubeDlpAnnotations(m.annotations),
    terminating: m.deletionTimestamp !== undefined && m.deletionTimestamp !== null,
  };
}

/** Namespaces carry large annotations (last-applied-configuration); keep only ours (and the exemptions the operator mirrors). */
function pickKubeDlpAnnotations(all: Record<string, string> | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(all ?? {})) if (k.startsWith('kubedlp.io/') || k.startsWith(EXEMPTION_ANNOTATION_PREFIX)) out[k] = v;
  return out;
}

export function toProfileView(kind: ProfileKindName) {
  return (o: RawObject): ProfileView => {
    const m = meta(o);
    return {
      kind,
      name: m.name ?? '',
      namespace: m.namespace || undefined,
      uid: m.uid ?? '',
      generation: m.generation ?? 0,
      spec: o.spec ?? {},
      status: o.status as SecurityProfileStatus | undefined,
    };
  };
}

export function toServiceView(o: RawObject): ServiceView {
  const spec = (o.spec ?? {}) as { clusterIP?: string; clusterIPs?: string[] };
  const ips = spec.clusterIPs ?? (spec.clusterIP ? [spec.clusterIP] : []);
  return {
    namespace: meta(o).namespace ?? '',
    name: meta(o).name ?? '',
    // Headless services have clusterIP "None": no address to attribute.
    clusterIPs: ips.filter((ip) => ip !== '' && ip !== 'None'),
  };
}

export function toPodView(o: RawObject): PodView {
  const status = (o.status ?? {}) as { podIP?: string; podIPs?: { ip?: string }[]; phase?: string };
  const ips = status.podIPs?.map((p) => p.ip ?? '') ?? (status.podIP ? [status.podIP] : []);
  const finished = status.phase === 'Succeeded' || status.phase === 'Failed';
  const spec = (o.spec ?? {}) as { hostNetwork?: boolean };
  return {
    namespace: meta(o).namespace ?? '',
    name: meta(o).name ?? '',
    // A finished pod's IP is reused by the next pod; a host-network pod's IP is
    // the node's, shared by every pod on it: neither identifies a namespace.
    ips: finished || spec.hostNetwork ? [] : ips.filter((ip) => ip !== ''),
    injected: meta(o).labels?.[LABEL_INJECTED_POD] === 'true',
  };
}

export function toOwnedView(o: RawObject): OwnedView {
  const m = meta(o);
  const content = o.kind === 'NetworkPolicy' || o.spec !== undefined ? o.spec : (o.data ?? {});
  return {
    namespace: m.namespace ?? '',
    name: m.name ?? '',
    labels: { ...(m.labels ?? {}) },
    ownerUids: (m.ownerReferences ?? []).map((r) => r.uid ?? ''),
    contentHash: contentHash(content ?? {}),
  };
}

/** Hash of a JSON value that ignores key order (the API server does not promise one). */
export function contentHash(value: unknown): string {
  return createHash('sha256').update(canonicalJson(value)).digest('hex').slice(0, 32);
}

