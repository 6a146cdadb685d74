// The parts of a Pod the injection reads and writes, as the API server sends
// them (JSON). Unknown fields are carried through untouched: the webhook's
// patch is computed from the difference, so it never drops what it does not
// know.
export interface EnvVar {
  name: string;
  value?: string;
  valueFrom?: unknown;
}

export interface Container {
  name: string;
  env?: EnvVar[];
  [field: string]: unknown;
}

export interface VolumeMount {
  name: string;
  mountPath: string;
  readOnly?: boolean;
  [field: string]: unknown;
}

export interface Volume {
  name: string;
  [field: string]: unknown;
}

export interface PodSpec {
  containers: Container[];
  initContainers?: Container[];
  volumes?: Volume[];
  hostNetwork?: boolean;
  [field: string]: unknown;
}

export interface PodMeta {
  name?: string;
  generateName?: string;
  namespace?: string;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
  ownerReferences?: { apiVersion?: string; kind?: string; name?: string; uid?: string; controller?: boolean }[];
  [field: string]: unknown;
}

export interface Pod {
  apiVersion?: string;
  kind?: string;
  metadata: PodMeta;
  spec: PodSpec;
  [field: string]: unknown;
}

/** "ns/name", or "ns/generateName*" for a pod whose name the API server has yet to pick. */
export function podDisplayName(pod: Pod, namespace?: string): string {
  const ns = namespace ?? pod.metadata.namespace ?? '';
  const name = pod.metadata.name || (pod.metadata.generateName ? `${pod.metadata.generateName}*` : '(unnamed)');
  return ns ? `${ns}/${name}` : name;
}
