// The informers the operator reconciles from: what it reads (namespaces,
// profiles, Services, Pods, ServiceCIDRs) and what it owns (ConfigMaps and
// NetworkPolicies carrying its managed-by label, and only those).
import { KIND_CLUSTER_SECURITY_PROFILE, KIND_SECURITY_PROFILE, MANAGED_SELECTOR } from '../api/names';
import type { KubeClient } from '../kube/client';
import { Informer } from '../kube/informer';
import type { Logger } from '../kube/logger';
import {
  CLUSTER_SECURITY_PROFILES,
  CONFIG_MAPS,
  NAMESPACES,
  NETWORK_POLICIES,
  PODS,
  SECURITY_PROFILES,
  SERVICE_CIDRS,
  SERVICES,
} from '../kube/resources';
import type { ProfileLookup } from '../decide/resolve-profile';
import {
  toNamespaceView,
  toOwnedView,
  toPodView,
  toProfileView,
  toServiceView,
  type NamespaceView,
  type OwnedView,
  type PodView,
  type ProfileView,
  type RawObject,
  type ServiceView,
} from '../model/views';

export interface ServiceCidrView {
  name: string;
  cidrs: readonly string[];
}

const toServiceCidrView = (o: RawObject): ServiceCidrView => ({
  name: o.metadata?.name ?? '',
  cidrs: ((o.spec as { cidrs?: string[] } | undefined)?.cidrs ?? []).slice(),
});

export class ClusterCaches implements ProfileLookup {
  readonly namespaces: Informer<NamespaceView>;
  readonly securityProfiles: Informer<ProfileView>;
  readonly clusterSecurityProfiles: Informer<ProfileView>;
  readonly configMaps: Informer<OwnedView>;
  readonly networkPolicies: Informer<OwnedView>;
  readonly services: Informer<ServiceView>;
  readonly pods: Informer<PodView>;
  readonly serviceCIDRs: Informer<ServiceCidrView>;

  constructor(client: KubeClient, log?: Logger) {
    this.namespaces = new Informer(client, { resource: NAMESPACES, toView: toNamespaceView, log });
    this.securityProfiles = new Informer(client, { resource: SECURITY_PROFILES, toView: toProfileView(KIND_SECURITY_PROFILE), log });
    this.clusterSecurityProfiles = new Informer(client, {
      resource: CLUSTER_SECURITY_PROFILES,
      toView: toProfileView(KIND_CLUSTER_SECURITY_PROFILE),
      log,
    });
    this.configMaps = new Informer(client, { resource: CONFIG_MAPS, toView: toOwnedView, labelSelector: MANAGED_SELECTOR, log });
    this.networkPolicies = new Informer(client, {
      resource: NETWORK_POLICIES,
      toView: toOwnedView,
      labelSelector: MANAGED_SELECTOR,
      log,
    });
    this.services = new Informer(client, { resource: SERVICES, toView: toServiceView, log });
    this.pods = new Informer(client, { resource: PODS, toView: toPodView, log });
    // Served since Kubernetes 1.33; older clusters give the range by flag or not at all.
    this.serviceCIDRs = new Informer(client, { resource: SERVICE_CIDRS, toView: toServiceCidrView, optional: true, log });
  }

  private all(): Informer<unknown>[] {
    return [
      this.namespaces,
      this.securityProfiles,
      this.clusterSecurityProfiles,
      this.configMaps,
      this.networkPolicies,
      this.services,
      this.pods,
      this.serviceCIDRs,
    ] as Informer<unknown>[];
  }

  /** Resolves when every cache holds its first list. */
  async start(): Promise<void> {
    await Promise.all(this.all().map((i) => i.start()));
  }

  stop(): void {
    for (const i of this.all()) i.stop();
  }

  get synced(): boolean {
    return this.all().every((i) => i.synced);
  }

  securityProfile(namespace: string, name: string): ProfileView | undefined {
    return this.securityProfiles.get(name, namespace);
  }

  clusterSecurityProfile(name: string): ProfileView | undefined {
    return this.clusterSecurityProfiles.get(name);
  }

  *profiles(): IterableIterator<ProfileView> {
    yield* this.clusterSecurityProfiles.values();
    yield* this.securityProfiles.values();
  }
}
