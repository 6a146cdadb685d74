// Names of the objects that carry a tenant's interception CA.
//
// Where they live: the tenant's CA (with its key and rotation state) is one
// Secret in the operator's namespace, `kube-dlp-ca-<tenant>`, readable by
// the operator only. A pod can mount a Secret only from its own namespace, so
// each opted-in namespace whose profile enables tls.intercept gets two
// copies the operator keeps in step with it:
// - Secret `kube-dlp-intercept-ca` (kubernetes.io/tls: tls.crt, tls.key, the
//   CA that signs now): mounted ONLY into the sidecar (--intercept-ca-dir);
// - ConfigMap `kube-dlp-trust-bundle` (ca.crt: every CA clients must trust,
//   two during a rotation; no key): what app containers see.

/** Per tenant, in the operator's namespace. A tenant name is a label value (<= 63), so this stays a valid name. */
export const tenantCaSecretName = (tenant: string): string => `kube-dlp-ca-${tenant.toLowerCase().replace(/[^a-z0-9-]/g, '-')}`;

/** Per namespace: the signing CA and its key, for the sidecar only. */
export const NAMESPACE_CA_SECRET = 'kube-dlp-intercept-ca';
/** Per namespace: the CA certificates app containers trust (no key). */
export const TRUST_BUNDLE_CONFIGMAP = 'kube-dlp-trust-bundle';
export const TRUST_BUNDLE_KEY = 'ca.crt';

/** On every tenant CA Secret: which tenant it belongs to (the cleanup lists by it). */
export const LABEL_TENANT_CA = 'kubedlp.io/tenant-ca';
/** When trust or the signing CA last changed: the rotation waits from there. */
export const ANNOTATION_CA_CHANGED_AT = 'kubedlp.io/ca-changed-at';
/** cert-manager writes this on the Secrets of its Certificates. */
export const ANNOTATION_CERT_MANAGER_CERTIFICATE = 'cert-manager.io/certificate-name';
/** Set on a tenant CA Secret (any value) to start a rotation now: a suspected key leak. Removed by the rotation's first write. */
export const ANNOTATION_ROTATE_CA = 'kubedlp.io/rotate-ca';
