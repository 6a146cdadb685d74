// Builds the injected pod from the pod as submitted and the rendered
// template. Every piece is added only where it is missing (matched by name),
// so injecting an injected pod changes one thing only: the proxy uid, drawn
// afresh for every injection and written into the sidecar and the init
// container whether they were rendered now or came with the request. A uid
// in the request is never kept: the request may come from the pod's author
// (a forged or copied injection status), and a uid the author chose could be
// the one their image runs as. A re-invocation after another webhook added a
// container gives that container the proxy environment and the pod a new,
// still consistent, uid.
import {
  ANNOTATION_SIDECAR_STATUS,
  INIT_IPTABLES_CONTAINER,
  PROXY_ADMIN_PORT,
  PROXY_CONTAINER,
  PROXY_PORT,
  TRUST_INIT_CONTAINER,
  type CaptureMode,
} from './names';
import type { PodOverrides } from './pod-annotations';
import type { Container, EnvVar, Pod, Volume, VolumeMount } from './pod';
import { render, TLS_TEMPLATE_SECTIONS, type Template, type TemplateValues } from './render-template';
import { TemplateError } from '../errors';
import { formatSidecarStatus, sidecarStatusOf } from './sidecar-status';
import { randomProxyUid, type ProxyUidSource } from './proxy-uid';

/** Operator-wide injection settings (flags of `kube-dlp operator`). */
export interface InjectionConfig {
  image: string;
  /** Left to the cluster's default when unset. */
  imagePullPolicy?: 'Always' | 'IfNotPresent' | 'Never';
  /** The image's kube-dlp executable. */
  command: readonly string[];
  resources: Record<string, unknown>;
  initResources: Record<string, unknown>;
  /** Kubernetes >= 1.29: the proxy runs as a native sidecar (init container, restartPolicy Always). */
  nativeSidecars: boolean;
  /** Hosts explicit-mode clients reach directly (NO_PROXY). */
  noProxy: string;
  /** Address the proxy's admin port binds: the kubelet probes it and Prometheus scrapes it on the pod IP. */
  adminHost: string;
  /** Draws the proxy uid for each injected pod: randomProxyUid, or a fixed value in golden tests. */
  chooseProxyUid: ProxyUidSource;
}

export const DEFAULT_INJECTION_CONFIG: Omit<InjectionConfig, 'image' | 'nativeSidecars'> = {
  command: ['kube-dlp'],
  // The memory request is what the sidecar holds idle, measured with the
  // Protect sample: 75-78 MiB after start, 80-83 MiB between bursts of
  // traffic (bench:proxy's idle_rss_*). A request below that overcommits the
  // node, and under memory pressure the kubelet evicts first the pods using
  // most above what they requested.
  resources: { requests: { cpu: '50m', memory: '96Mi' }, limits: { memory: '256Mi' } },
  // init-iptables is the same Node CLI as the proxy: about 130 MB resident
  // while it loads (measured), so a 64Mi limit got it OOM-killed on a real node.
  initResources: { requests: { cpu: '10m', memory: '16Mi' }, limits: { cpu: '100m', memory: '256Mi' } },
  // In-cluster API calls (client libraries honour HTTPS_PROXY too) would
  // otherwise become CONNECT tunnels the proxy cannot inspect. Kubernetes
  // expands $(KUBERNETES_SERVICE_HOST) from the service environment.
  noProxy: 'localhost,127.0.0.1,::1,$(KUBERNETES_SERVICE_HOST),kubernetes.default.svc',
  adminHost: '0.0.0.0',
  chooseProxyUid: randomProxyUid,
};

export interface InjectionTarget {
  tenant: string;
  overrides: PodOverrides;
  /** The namespace's rendered profile enables tls.intercept: the proxy gets the CA, app containers the trust. */
  interceptTls?: boolean;
}

/** The pieces a pod of an intercepting namespace receives (sidecar-template.yaml, TLS sections). */
interface TrustPieces {
  proxyArgs: string[];
  proxyMounts: VolumeMount[];
  init: Container;
  volumes: Volume[];
  appMounts: VolumeMount[];
  appEnv: EnvVar[];
}

function trustPieces(template: Template, values: TemplateValues): TrustPieces {
  const missing = TLS_TEMPLATE_SECTIONS.filter((s) => !(s in template));
  if (missing.length > 0) throw new TemplateError(`the namespace intercepts TLS but the sidecar template lacks section(s) ${missing.join(', ')}`);
  const ca = render<{ args?: string[]; volumeMounts?: VolumeMount[] }>(template.interceptCa, values);
  return {
    proxyArgs: ca.args ?? [],
    proxyMounts: ca.volumeMounts ?? [],
    init: render<Container>(template.trustInit, values),
    volumes: render<Volume[]>(template.trustVolumes, values),
    appMounts: render<VolumeMount[]>(template.appTrustMounts, values),
    appEnv: render<EnvVar[]>(template.appTrustEnv, values),
  };
}

/** The values the template is rendered with; every name the template uses is a key here. */
export function templateValues(config: InjectionConfig, target: InjectionTarget, proxyUid: number): TemplateValues {
  const mode = target.overrides.captureMode;
  const listen = mode === 'explicit' ? `127.0.0.1:${PROXY_PORT}` : `[::]:${PROXY_PORT}`;
  return {
    image: config.image,
    imagePullPolicy: config.imagePullPolicy,
    command: [...config.command],
    captureMode: mode,
    listen,
    adminListen: `${config.adminHost.includes(':') ? `[${config.adminHost}]` : config.adminHost}:${PROXY_ADMIN_PORT}`,
    restartPolicy: config.nativeSidecars ? 'Always' : undefined,
    tenant: target.tenant,
    proxyPort: PROXY_PORT,
    adminPort: PROXY_ADMIN_PORT,
    proxyUid,
    resources: config.resources,
    initResources: config.initResources,
    excludePorts: target.overrides.excludePortsText || undefined,
    excludeCidrs: target.overrides.excludeCidrsText || undefined,
    proxyUrl: `http://127.0.0.1:${PROXY_PORT}`,
    noProxy: config.noProxy,
  };
}

export function injectPod(submitted: Pod, template: Template, config: InjectionConfig, target: InjectionTarget): Pod {
  const pod = structuredClone(submitted);
  const proxyUid = config.chooseProxyUid(submitted);
  const values = templateValues(config, target, proxyUid);
  const mode: CaptureMode = target.overrides.captureMode;
  const proxy = render<Container>(template.proxy, values);
  const init = mode === 'transparent' ? render<Container>(template.initIptables, values) : undefined;
  const trust = target.interceptTls ? trustPieces(template, values) : undefined;
  if (trust) {
    proxy.args = [...((proxy.args as string[] | undefined) ?? []), ...trust.proxyArgs];
    proxy.volumeMounts = [...((proxy.volumeMounts as VolumeMount[] | undefined) ?? []), ...trust.proxyMounts];
  }

  const initContainers = pod.spec.initContainers ?? [];
  // Capture first, then the trust bundle, then (native) the proxy: the pod's
  // own init containers run after all of them, so their egress is captured,
  // has a proxy to reach, and trusts its certificates.
  const leading = [init, trust?.init, config.nativeSidecars ? proxy : undefined].filter((c): c is Container => c !== undefined);
  let at = 0;
  for (const c of leading) {
    const existing = initContainers.findIndex((x) => x.name === c.name);
    if (existing >= 0) at = existing + 1;
    // A sidecar the request already has among the regular containers stays
    // the only one, to be judged by the admission rules like any other.
    else if (!pod.spec.containers.some((x) => x.name === c.name)) initContainers.splice(at++, 0, c);
  }
  if (initContainers.length > 0) pod.spec.initContainers = initContainers;
  if (!config.nativeSidecars && !pod.spec.containers.some((c) => c.name === PROXY_CONTAINER)) {
    pod.spec.containers.unshift(proxy);
  }
  stampProxyUid(pod, proxy, proxyUid);

  const volumes: Volume[] = pod.spec.volumes ?? [];
  for (const v of [...render<Volume[]>(template.volumes, values), ...(trust?.volumes ?? [])]) if (!volumes.some((x) => x.name === v.name)) volumes.push(v);
  pod.spec.volumes = volumes;

  if (trust) {
    for (const c of appContainers(pod, config.nativeSidecars)) {
      addMounts(c, trust.appMounts);
      addEnvIfUnset(c, trust.appEnv);
    }
  }

  if (mode === 'explicit') {
    const env = render<EnvVar[]>(template.appEnv, values);
    for (const c of appContainers(pod, config.nativeSidecars)) setEnv(c, env);
  }

  const meta = pod.metadata;
  meta.annotations = { ...(meta.annotations ?? {}) };
  for (const [k, v] of Object.entries(render<Record<string, unknown>>(template.podAnnotations, values))) {
    if (meta.annotations[k] === undefined) meta.annotations[k] = String(v);
  }
  meta.labels = { ...(meta.labels ?? {}) };
  for (const [k, v] of Object.entries(render<Record<string, unknown>>(template.podLabels, values))) meta.labels[k] = String(v);
  meta.annotations[ANNOTATION_SIDECAR_STATUS] = formatSidecarStatus(sidecarStatusOf(pod, mode, config.nativeSidecars));
  return pod;
}

/**
 * Gives the kube-dlp containers the request brought (kept by name above) the
 * uid drawn now: the sidecar's runAsUser (and runAsGroup where the template
 * sets it) and every `--proxy-uid=` of the init container. Only the uid is
 * rewritten: whether such a container is genuine otherwise is for the
 * admission rules (pod-rules.ts) to say, as before.
 */
function stampProxyUid(pod: Pod, rendered: Container, uid: number): void {
  const renderedSc = (rendered.securityContext ?? {}) as { runAsGroup?: unknown };
  for (const c of [...pod.spec.containers, ...(pod.spec.initContainers ?? [])]) {
    if (c === rendered) continue;
    if (c.name === PROXY_CONTAINER) {
      const sc: Record<string, unknown> = { ...((c.securityContext ?? {}) as Record<string, unknown>), runAsUser: uid };
      if (renderedSc.runAsGroup === uid) sc.runAsGroup = uid;
      c.securityContext = sc;
    } else if (c.name === INIT_IPTABLES_CONTAINER && Array.isArray(c.args)) {
      c.args = (c.args as unknown[]).map((a) => (typeof a === 'string' && a.startsWith('--proxy-uid=') ? `--proxy-uid=${uid}` : a));
    }
  }
}

/**
 * Containers whose egress goes through the proxy by HTTP_PROXY: all but ours.
 * The pod's own init containers only with a native sidecar: otherwise they
 * run before any proxy exists and would fail to connect.
 */
function appContainers(pod: Pod, native: boolean): Container[] {
  const ours = (c: Container) => c.name === PROXY_CONTAINER || c.name === INIT_IPTABLES_CONTAINER || c.name === TRUST_INIT_CONTAINER;
  const inits = native ? (pod.spec.initContainers ?? []).filter((c) => !ours(c)) : [];
  return [...inits, ...pod.spec.containers.filter((c) => !ours(c))];
}

/** Mounts the container lacks (by volume name); a path it already uses for something else is left to it. */
function addMounts(c: Container, wanted: readonly VolumeMount[]): void {
  const mounts = (c.volumeMounts as VolumeMount[] | undefined) ?? [];
  for (const m of wanted) {
    if (mounts.some((x) => x.name === m.name || x.mountPath === m.mountPath)) continue;
    mounts.push({ ...m });
  }
  c.volumeMounts = mounts;
}

/** The app's own value wins: a container that names its own CA bundle chose it (the README says to add the tenant CA to it). */
function addEnvIfUnset(c: Container, wanted: readonly EnvVar[]): void {
  const env = c.env ?? [];
  for (const w of wanted) if (!env.some((e) => e.name === w.name)) env.push({ ...w });
  c.env = env;
}

/** Ours wins over a value the container set itself: the point of explicit mode is that egress goes through the proxy. */
function setEnv(c: Container, wanted: readonly EnvVar[]): void {
  const env = c.env ?? [];
  for (const w of wanted) {
    const i = env.findIndex((e) => e.name === w.name);
    if (i < 0) env.push({ ...w });
    else if (env[i]!.value !== w.value || env[i]!.valueFrom !== undefined) env[i] = { ...w };
  }
  c.env = env;
}
