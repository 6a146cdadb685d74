// Keeps the caBundle of the webhook's MutatingWebhookConfiguration equal to
// the CAs the Secret trusts. A JSON patch guarded by a `test` of the
// resourceVersion: a concurrent edit (another replica, kubectl apply) makes
// the patch fail with a conflict instead of being overwritten.
import { KubeApiError } from '../errors';
import type { KubeClient } from '../kube/client';
import { objectPath } from '../kube/resources';
import { MUTATING_WEBHOOK_CONFIGURATIONS } from '../webhook/resources';

interface WebhookConfigurationShape {
  metadata: { resourceVersion?: string };
  webhooks?: { name: string; clientConfig?: { caBundle?: string } }[];
}

export type PublishResult = 'unchanged' | 'patched' | 'missing';

export class CaBundlePublisher {
  constructor(
    private readonly client: KubeClient,
    readonly configurationName: string,
  ) {}

  /** True when every webhook of the configuration trusts exactly `bundlePem`. */
  async isPublished(bundlePem: string): Promise<boolean> {
    const config = await this.read();
    if (!config) return false;
    const want = Buffer.from(bundlePem, 'utf8').toString('base64');
    return (config.webhooks ?? []).length > 0 && (config.webhooks ?? []).every((w) => w.clientConfig?.caBundle === want);
  }

  async publish(bundlePem: string): Promise<PublishResult> {
    const config = await this.read();
    if (!config) return 'missing';
    const want = Buffer.from(bundlePem, 'utf8').toString('base64');
    const ops: unknown[] = [{ op: 'test', path: '/metadata/resourceVersion', value: config.metadata.resourceVersion }];
    (config.webhooks ?? []).forEach((w, i) => {
      if (w.clientConfig?.caBundle !== want) ops.push({ op: 'add', path: `/webhooks/${i}/clientConfig/caBundle`, value: want });
    });
    if (ops.length === 1) return 'unchanged';
    await this.client.request('PATCH', objectPath(MUTATING_WEBHOOK_CONFIGURATIONS, this.configurationName), {
      body: ops,
      contentType: 'application/json-patch+json',
    });
    return 'patched';
  }

  private async read(): Promise<WebhookConfigurationShape | undefined> {
    try {
      return await this.client.get<WebhookConfigurationShape>(MUTATING_WEBHOOK_CONFIGURATIONS, this.configurationName);
    } catch (err) {
      if (err instanceof KubeApiError && err.notFound) return undefined;
      throw err;
    }
  }
}
