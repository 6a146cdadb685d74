// The integration-test toolkit: import from 'test/envtest' (relative path).
export { getControlPlane, startControlPlane, attachControlPlane, KUBECONFIG_ENV } from './control-plane';
export type { ControlPlane, StartOptions } from './control-plane';
export { installCRDs, readCRDs, ENVTEST_FIELD_MANAGER } from './crds';
export { apiStatusOf, describeApiError } from './api-errors';
export type { ApiStatus } from './api-errors';
export { newNamespace } from './namespaces';
export { registerMutatingWebhook, registerValidatingWebhook } from './webhooks';
export type { WebhookRegistration, RegisteredWebhook } from './webhooks';
export { createWebhookServingCert } from './pki';
export type { WebhookServingCert } from './pki';
export { waitFor } from './wait';
export type { WaitOptions } from './wait';
export { EnvtestError } from './errors';
export type { EnvtestErrorCode } from './errors';
