// Names the injection shares with pods, the proxy and the manifests: the pod
// annotations users write, the containers and volumes the webhook adds, and
// the ports the proxy listens on. Namespace-level names (kubedlp.io/inject,
// kubedlp.io/tenant, the ConfigMaps) live in operator/api/names.ts.
export {
  ANNOTATION_INJECT,
  INJECT_DISABLED,
  INJECT_ENABLED,
  LABEL_INJECTED_POD,
  PROFILE_CONFIGMAP,
  PROFILE_CONFIGMAP_KEY,
  TENANTS_CONFIGMAP,
  TENANTS_CONFIGMAP_KEY,
} from '../api/names';

/** Pod annotation: destination ports never redirected to the proxy (transparent mode). */
export const ANNOTATION_EXCLUDE_OUTBOUND_PORTS = 'kubedlp.io/exclude-outbound-ports';
/** Pod annotation: destination networks never redirected to the proxy (transparent mode). */
export const ANNOTATION_EXCLUDE_OUTBOUND_CIDRS = 'kubedlp.io/exclude-outbound-cidrs';
/** Pod annotation: `explicit` (HTTP_PROXY) or `transparent` (iptables), overriding the operator's default. */
export const ANNOTATION_CAPTURE_MODE = 'kubedlp.io/capture-mode';
/** Written by the webhook: what it injected and which containers it saw (informational, see sidecar-status.ts). */
export const ANNOTATION_SIDECAR_STATUS = 'kubedlp.io/sidecar-status';
/** Namespace annotation: `auto` restarts workloads whose pods lack the sidecar. */
export const ANNOTATION_ROLLOUT = 'kubedlp.io/rollout';
export const ROLLOUT_AUTO = 'auto';
export const ROLLOUT_MANUAL = 'manual';

/** The value of LABEL_INJECTED_POD on injected pods (the operator counts them for status). */
export const INJECTED_TRUE = 'true';

export const CAPTURE_MODES = ['explicit', 'transparent'] as const;
export type CaptureMode = (typeof CAPTURE_MODES)[number];

export const PROXY_CONTAINER = 'kube-dlp-proxy';
export const INIT_IPTABLES_CONTAINER = 'kube-dlp-init';
/** Builds the combined CA bundle for app containers (namespaces that intercept TLS). */
export const TRUST_INIT_CONTAINER = 'kube-dlp-trust';
export const PROFILE_VOLUME = 'kube-dlp-profile';
export const TENANTS_VOLUME = 'kube-dlp-tenants';
export const TMP_VOLUME = 'kube-dlp-tmp';

// The proxy's uid is not a name: the webhook draws one per pod (proxy-uid.ts).
export const PROXY_PORT = 15001;
export const PROXY_ADMIN_PORT = 15090;

/** Environment variables set on app containers in explicit mode (both spellings: tools read one or the other). */
export const PROXY_ENV_NAMES = ['HTTP_PROXY', 'HTTPS_PROXY', 'NO_PROXY', 'http_proxy', 'https_proxy', 'no_proxy'] as const;

/** Added to a pod's annotations unless the pod sets its own (an app's own scrape config wins). */
export const PROMETHEUS_ANNOTATIONS = ['prometheus.io/scrape', 'prometheus.io/port', 'prometheus.io/path'] as const;
