// The MutatingWebhookConfiguration that sends pod creations to the operator,
// as a pure function: config/webhook/ is generated from it, the operator
// patches its caBundle, and the integration test registers exactly it. Every
// field is a decision; the comments say why.
import {
  INJECTION_ENABLED,
  LABEL_INJECTION,
  LABEL_NAMESPACE_NAME,
  SYSTEM_NAMESPACES,
} from '../api/names';
import type { KubeObject } from '../model/kube-object';
import type { FailurePolicy } from './handler';
import { INJECT_PATH } from './server';

export const WEBHOOK_CONFIGURATION_NAME = 'kube-dlp-injector';
/** The webhook's own name inside the configuration (must be a qualified name). */
export const WEBHOOK_NAME = 'inject.kubedlp.io';
export const WEBHOOK_SERVICE_NAME = 'kube-dlp-webhook';
export const WEBHOOK_SERVICE_PORT = 443;
/** The operator's container port the Service forwards to. */
export const WEBHOOK_CONTAINER_PORT = 9443;
export const DEFAULT_TIMEOUT_SECONDS = 5;

export type ClientConfig =
  | { service: { namespace: string; name: string; path: string; port: number }; caBundle?: string }
  | { url: string; caBundle?: string };

export interface WebhookConfigurationOptions {
  operatorNamespace: string;
  failurePolicy: FailurePolicy;
  timeoutSeconds?: number;
  /** Where the API server sends reviews; the in-cluster Service by default. */
  url?: string;
  /** PEM of the CAs the API server trusts for the webhook; omitted when cert-manager injects it. */
  caBundlePem?: string;
  name?: string;
}

export function serviceClientConfig(operatorNamespace: string): ClientConfig {
  return { service: { namespace: operatorNamespace, name: WEBHOOK_SERVICE_NAME, path: INJECT_PATH, port: WEBHOOK_SERVICE_PORT } };
}

export function desiredWebhookConfiguration(opts: WebhookConfigurationOptions): KubeObject {
  const clientConfig: ClientConfig = opts.url ? { url: opts.url } : serviceClientConfig(opts.operatorNamespace);
  if (opts.caBundlePem) clientConfig.caBundle = Buffer.from(opts.caBundlePem, 'utf8').toString('base64');
  return {
    apiVersion: 'admissionregistration.k8s.io/v1',
    kind: 'MutatingWebhookConfiguration',
    metadata: {
      name: opts.name ?? WEBHOOK_CONFIGURATION_NAME,
      labels: { 'app.kubernetes.io/name': 'kube-dlp', 'app.kubernetes.io/component': 'webhook' },
    },
    webhooks: [
      {
        name: WEBHOOK_NAME,
        admissionReviewVersions: ['v1'],
        clientConfig,
        rules: [{ operations: ['CREATE'], apiGroups: [''], apiVersions: ['v1'], resources: ['pods'], scope: 'Namespaced' }],
        // Only namespaces the operator labelled (it mirrors the kubedlp.io/inject
        // annotation, and users cannot opt in by writing the label alone): an
        // operator outage can only ever block pod creation there. System
        // namespaces and the operator's own are excluded by name as well, so the
        // operator can always restart itself and the control plane's pods.
        namespaceSelector: {
          matchLabels: { [LABEL_INJECTION]: INJECTION_ENABLED },
          matchExpressions: [
            { key: LABEL_NAMESPACE_NAME, operator: 'NotIn', values: [...new Set([...SYSTEM_NAMESPACES, opts.operatorNamespace])] },
          ],
        },
        // No objectSelector: a pod cannot opt itself out of being judged. One
        // labelled kubedlp.io/inject: disabled is admitted unchanged only where
        // the namespace's profile allows it (Monitor, or a granted exemption).
        // Fail (default): a pod in an opted-in namespace never starts without
        // its DLP proxy; running pods missed under Ignore are reported and can
        // be rolled out (operator/rollout).
        failurePolicy: opts.failurePolicy,
        // Short: pod creation waits for us, and the decision needs no I/O on the hot path.
        timeoutSeconds: opts.timeoutSeconds ?? DEFAULT_TIMEOUT_SECONDS,
        // The webhook only changes the pod in the request.
        sideEffects: 'None',
        // Pods requested through another API version of the same resource are sent too.
        matchPolicy: 'Equivalent',
        // IfNeeded: when a webhook running after ours adds a container (or
        // env, volumes), the API server calls us once more; the injection is
        // idempotent and then only gives the new container the proxy
        // environment. Without it such a container would bypass the proxy in
        // explicit mode.
        reinvocationPolicy: 'IfNeeded',
      },
    ],
  };
}

/** The Service in front of the operator's webhook port (config/webhook). */
export function webhookService(operatorNamespace: string): KubeObject {
  return {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: {
      name: WEBHOOK_SERVICE_NAME,
      namespace: operatorNamespace,
      labels: { 'app.kubernetes.io/name': 'kube-dlp', 'app.kubernetes.io/component': 'webhook' },
    },
    spec: {
      // Every replica serves the webhook, leader or not.
      selector: { 'app.kubernetes.io/name': 'kube-dlp', 'app.kubernetes.io/component': 'operator' },
      ports: [{ name: 'webhook', port: WEBHOOK_SERVICE_PORT, targetPort: 'webhook', protocol: 'TCP' }],
    },
  };
}

/** The TLS Secret's DNS names: the Service's, as the API server calls it. */
export function serviceDnsNames(operatorNamespace: string): string[] {
  const base = `${WEBHOOK_SERVICE_NAME}.${operatorNamespace}`;
  return [WEBHOOK_SERVICE_NAME, base, `${base}.svc`, `${base}.svc.cluster.local`];
}
