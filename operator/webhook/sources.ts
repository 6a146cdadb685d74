// What the handler looks up per request, served from informer caches so the
// admission path does no API call in the steady state. A namespace missing
// from the cache (created a moment ago) is fetched with one GET, so a fresh
// namespace is never mistaken for a missing one; a rendered profile is
// fetched only while the cache is still syncing.
import { MANAGED_SELECTOR, PROFILE_CONFIGMAP, PROFILE_CONFIGMAP_KEY } from '../api/names';
import { KubeApiError } from '../errors';
import { allowancesFromRenderedProfile, strictest, type ProfileAllowances } from '../inject/profile-allowances';
import type { KubeClient } from '../kube/client';
import { Informer } from '../kube/informer';
import type { Logger } from '../kube/logger';
import { CONFIG_MAPS, NAMESPACES } from '../kube/resources';
import { toNamespaceView, type NamespaceView, type RawObject } from '../model/views';
import type { AllowanceSource, NamespaceSource } from './handler';

export class CachedNamespaces implements NamespaceSource {
  readonly informer: Informer<NamespaceView>;

  constructor(
    private readonly client: KubeClient,
    log?: Logger,
  ) {
    this.informer = new Informer(client, { resource: NAMESPACES, toView: toNamespaceView, log });
  }

  async namespace(name: string): Promise<NamespaceView | undefined> {
    const cached = this.informer.get(name);
    if (cached) return cached;
    try {
      return toNamespaceView(await this.client.get<RawObject>(NAMESPACES, name));
    } catch (err) {
      if (err instanceof KubeApiError && err.notFound) return undefined;
      throw err;
    }
  }
}

export interface RenderedProfileView {
  namespace: string;
  allowances: ProfileAllowances;
}

const NOT_RENDERED = 'the namespace\'s profile (not rendered yet: no ConfigMap kube-dlp-profile)';

function toRenderedProfileView(o: RawObject): RenderedProfileView {
  const text = ((o.data ?? {}) as Record<string, string>)[PROFILE_CONFIGMAP_KEY];
  return { namespace: o.metadata?.namespace ?? '', allowances: text === undefined ? strictest(NOT_RENDERED) : allowancesFromRenderedProfile(text) };
}

export class CachedAllowances implements AllowanceSource {
  readonly informer: Informer<RenderedProfileView>;

  constructor(
    private readonly client: KubeClient,
    log?: Logger,
  ) {
    // Only the operator's rendered profiles: one small view per opted-in namespace.
    this.informer = new Informer(client, {
      resource: CONFIG_MAPS,
      toView: toRenderedProfileView,
      labelSelector: MANAGED_SELECTOR,
      fieldSelector: `metadata.name=${PROFILE_CONFIGMAP}`,
      log,
    });
  }

  async allowances(namespace: string): Promise<ProfileAllowances> {
    const cached = this.informer.get(PROFILE_CONFIGMAP, namespace);
    if (cached) return cached.allowances;
    // Once synced, absence is the answer: no API call on the admission path
    // for every pod of a namespace whose profile is not rendered (yet). A pod
    // racing the very first rendering gets the strict answer and is retried
    // by its controller.
    if (this.informer.synced) return strictest(NOT_RENDERED);
    try {
      return toRenderedProfileView(await this.client.get<RawObject>(CONFIG_MAPS, PROFILE_CONFIGMAP, namespace)).allowances;
    } catch (err) {
      if (err instanceof KubeApiError && err.notFound) return strictest(NOT_RENDERED);
      throw err;
    }
  }
}
