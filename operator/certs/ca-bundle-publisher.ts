// Keeps the caBundle of the webhook's MutatingWebhookConfiguration equal to
// the CAs the Secret trusts. A JSON patch guarded by a `test` of the
// resourceVersion: a concurrent edit (another replica, kubectl apply) makes
// the patch fail with a conflict instead of being overwritten.
// With a URL (`kube-dlp operator --webhook-host`, an operator outside the
// cluster) the clientConfig becomes that URL instead of the Service.
import { KubeApiError } from '../errors';
import type { KubeClient } from '../kube/client';
import { objectPath, MUTATING_WEBHOOK_CONFIGURATIONS } from '../kube/resources';

interface WebhookConfigurationShape {
  metadata: { resourceVersion?: string };
  webhooks?: { name: string; clientConfig?: { caBundle?: string; url?: string; service?: unknown } }[];
}

export type PublishResult = 'unchanged' | 'patched' | 'missing';

export class CaBundlePublisher {
  constructor(
    private readonly client: KubeClient,
    readonly configurationName: string,
    /** Where the API server should call the webhook; unset keeps the configuration's Service. */
    readonly url?: string,
  ) {}

  private matches(clientConfig: { caBundle?: string; url?: string; service?: unknown } | undefined, want: string): boolean {
    if (clientConfig?.caBundle !== want) return false;
    return this.url === undefined || (clientConfig.url === this.url && clientConfig.service === undefined);
  }

  /** True when every webhook of the configuration trusts exactly `bundlePem`. */
  async isPublished(bundlePem: string): Promise<boolean> {
    const config = await this.read();
    if (!config) return false;
    const want = Buffer.from(bundlePem, 'utf8').toString('base64');
    return (config.webhooks ?? []).length > 0 && (config.webhooks ?? []).every((w) => this.matches(w.clientConfig, want));
  }

  async publish(bundlePem: string): Promise<PublishResult> {
    const config = await this.read();
    if (!config) return 'missing';
    const want = Buffer.from(bundlePem, 'utf8').toString('base64');
    const ops: unknown[] = [{ op: 'test', path: '/metadata/resourceVersion', value: config.metadata.resourceVersion }];
    (config.webhooks ?? []).forEach((w, i) => {
      if (this.matches(w.clientConfig, want)) return;
      if (this.url === undefined) ops.push({ op: 'add', path: `/webhooks/${i}/clientConfig/caBundle`, value: want });
      else ops.push({ op: 'replace', path: `/webhooks/${i}/clientConfig`, value: { url: this.url, caBundle: want } });
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
