// Registers admission webhooks served by a test's own HTTPS server on this
// machine (https://127.0.0.1:PORT/...). The apiserver verifies that server
// against caBundle, so the server's certificate must name 127.0.0.1 (see
// createWebhookServingCert in pki.ts).

import {
  AdmissionregistrationV1Api,
  type KubeConfig,
  type V1LabelSelector,
  type V1MutatingWebhook,
  type V1RuleWithOperations,
  type V1ValidatingWebhook,
} from '@kubernetes/client-node';

export interface WebhookRegistration {
  /** Name of the configuration object and of its single webhook; needs a dot, e.g. 'label.kube-dlp.test'. */
  name: string;
  /** e.g. https://127.0.0.1:43210/mutate */
  url: string;
  /** PEM of the CA that signed the webhook server's certificate. */
  caPem: string;
  rules: V1RuleWithOperations[];
  /**
   * Limits the webhook to one namespace. The control plane is shared by test
   * files running in parallel, so a webhook that sees every namespace would
   * intercept (and with failurePolicy Fail, break) other files' requests.
   * Either this or namespaceSelector is required.
   */
  namespace?: string;
  namespaceSelector?: V1LabelSelector;
  objectSelector?: V1LabelSelector;
  /** Default 'Fail': a webhook that is not called should fail the test, not be skipped. */
  failurePolicy?: 'Fail' | 'Ignore';
  /** Default 10. */
  timeoutSeconds?: number;
}

export interface RegisteredWebhook {
  name: string;
  remove(): Promise<void>;
}

function webhookFields(r: WebhookRegistration): V1MutatingWebhook & V1ValidatingWebhook {
  const namespaceSelector: V1LabelSelector | undefined =
    r.namespaceSelector ?? (r.namespace ? { matchLabels: { 'kubernetes.io/metadata.name': r.namespace } } : undefined);
  if (!namespaceSelector) {
    throw new TypeError(`webhook ${r.name}: set namespace or namespaceSelector (the control plane is shared)`);
  }
  return {
    name: r.name,
    admissionReviewVersions: ['v1'],
    sideEffects: 'None',
    failurePolicy: r.failurePolicy ?? 'Fail',
    timeoutSeconds: r.timeoutSeconds ?? 10,
    clientConfig: { url: r.url, caBundle: Buffer.from(r.caPem, 'utf8').toString('base64') },
    rules: r.rules,
    namespaceSelector,
    ...(r.objectSelector ? { objectSelector: r.objectSelector } : {}),
  };
}

/**
 * Creates a MutatingWebhookConfiguration. The apiserver picks it up through an
 * informer, so it applies to requests a moment later, not necessarily the very
 * next one: probe with a dry-run request (webhooks with sideEffects None are
 * called for those) until the server has seen it.
 */
export async function registerMutatingWebhook(
  kubeConfig: KubeConfig,
  registration: WebhookRegistration,
): Promise<RegisteredWebhook> {
  const api = kubeConfig.makeApiClient(AdmissionregistrationV1Api);
  await api.createMutatingWebhookConfiguration({
    body: { metadata: { name: registration.name }, webhooks: [webhookFields(registration)] },
  });
  return {
    name: registration.name,
    remove: async () => {
      await api.deleteMutatingWebhookConfiguration({ name: registration.name });
    },
  };
}

/** Creates a ValidatingWebhookConfiguration; the same pick-up delay applies. */
export async function registerValidatingWebhook(
  kubeConfig: KubeConfig,
  registration: WebhookRegistration,
): Promise<RegisteredWebhook> {
  const api = kubeConfig.makeApiClient(AdmissionregistrationV1Api);
  await api.createValidatingWebhookConfiguration({
    body: { metadata: { name: registration.name }, webhooks: [webhookFields(registration)] },
  });
  return {
    name: registration.name,
    remove: async () => {
      await api.deleteValidatingWebhookConfiguration({ name: registration.name });
    },
  };
}
