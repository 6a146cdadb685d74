// The injection webhook inside the operator process: caches, TLS, HTTPS
// server, and the rollout of running pods. Every replica serves the webhook
// (it is behind a Service, and an admission request cannot wait for a leader
// election); only the leader runs the rollout controller, which writes.
import type { Registry } from 'prom-client';
import { installAdmissionPolicy } from './admission-policy/install';
import { ADMISSION_POLICY_NAME } from './admission-policy/validating-policy';
import type { OptInContext } from './decide/opt-in';
import { DEFAULT_INJECTION_CONFIG, type InjectionConfig } from './inject/inject';
import type { CaptureMode } from './inject/names';
import { loadTemplate } from './inject/render-template';
import type { KubeClient } from './kube/client';
import type { EventSink } from './kube/events';
import { Informer } from './kube/informer';
import type { Logger } from './kube/logger';
import { PODS } from './kube/resources';
import { FileCertificates } from './certs/file-certificates';
import { DEFAULT_ROTATION_POLICY, SelfManagedCertificates, type CertificateSource } from './certs/self-managed';
import type { RotationPolicy } from './certs/rotation-plan';
import { toRolloutPodView } from './rollout/pod-view';
import { RolloutController } from './rollout/rollout-controller';
import { readClusterVersion, supportsNativeSidecars, type ClusterVersion } from './webhook/cluster-version';
import { WebhookOptionsError } from './errors';
import { InjectionHandler, type FailurePolicy } from './webhook/handler';
import { WebhookMetrics } from './webhook/metrics';
import { WebhookServer, type ListenAddress } from './webhook/server';
import { CachedAllowances, CachedNamespaces } from './webhook/sources';
import { WEBHOOK_CONFIGURATION_NAME, WEBHOOK_CONTAINER_PORT, serviceDnsNames } from './webhook/webhook-configuration';

export interface InjectionOptions {
  client: KubeClient;
  log: Logger;
  /** The operator's registry (OperatorMetrics.registry): one /metrics for everything. */
  registry: Registry;
  events: EventSink;
  operatorNamespace: string;
  /** The proxy image injected into pods. */
  image: string;
  imagePullPolicy?: InjectionConfig['imagePullPolicy'];
  /** Default "0.0.0.0:9443". */
  listen?: ListenAddress;
  /** Capture mode for pods that name none in Monitor namespaces. Default explicit (needs no privileges). */
  defaultCaptureMode?: CaptureMode;
  /** The same in Protect namespaces. Default transparent: an app that ignores HTTP_PROXY is still inspected. */
  protectCaptureMode?: CaptureMode;
  /**
   * Install the ValidatingAdmissionPolicy and its binding (server-side apply)
   * before serving. The CLI turns it on; tests sharing one control plane
   * install their own, narrower copy.
   */
  installAdmissionPolicy?: boolean;
  /** Must match the webhook configuration's failurePolicy (it decides how exceptions are answered). Default Fail. */
  failurePolicy?: FailurePolicy;
  /** self (default): the operator's own CA in a Secret; files: a mounted cert-manager Secret in certDir. */
  certMode?: 'self' | 'files';
  certDir?: string;
  webhookConfigurationName?: string;
  /**
   * Out-of-cluster development (--webhook-host): the API server calls the
   * webhook at this URL instead of the Service, and its host is added to the
   * serving certificate. Self-managed certificates only.
   */
  url?: string;
  /** Names in the serving certificate; default the Service's DNS names. */
  dnsNames?: string[];
  ipAddresses?: string[];
  rotation?: Partial<Omit<RotationPolicy, 'dnsNames' | 'ipAddresses'>>;
  certCheckIntervalMs?: number;
  templatePath?: string;
  /** Overrides the /version check (tests; clusters whose version string lies). */
  nativeSidecars?: boolean;
  injection?: Partial<Omit<InjectionConfig, 'image' | 'imagePullPolicy' | 'nativeSidecars'>>;
  maxRestartsPerMinute?: number;
  rolloutIntervalMs?: number;
  /** Each admission request's duration in seconds (benchmark). */
  observeRequest?(seconds: number): void;
}

export interface RunningInjection {
  address: ListenAddress;
  metrics: WebhookMetrics;
  certificates: CertificateSource;
  clusterVersion?: ClusterVersion;
  nativeSidecars: boolean;
  /** Leader only: report and roll out pods missing the sidecar. Resolves once its pod cache is synced. */
  startRollout(): Promise<RolloutController>;
  stopRollout(): void;
  close(): Promise<void>;
}

export async function startInjection(opts: InjectionOptions): Promise<RunningInjection> {
  if (!opts.image) throw new WebhookOptionsError('an image for the injected proxy is required (--proxy-image)');
  if (opts.url && opts.certMode === 'files') {
    throw new WebhookOptionsError('--webhook-host needs --webhook-cert-mode self: the operator registers its own URL and CA');
  }
  const { client, log } = opts;
  const template = loadTemplate(opts.templatePath);
  let clusterVersion: ClusterVersion | undefined;
  let nativeSidecars = opts.nativeSidecars;
  if (nativeSidecars === undefined) {
    clusterVersion = await readClusterVersion(client);
    nativeSidecars = supportsNativeSidecars(clusterVersion);
    log.info({ version: clusterVersion.gitVersion, nativeSidecars }, 'cluster version read');
  }
  const config: InjectionConfig = {
    ...DEFAULT_INJECTION_CONFIG,
    ...opts.injection,
    image: opts.image,
    imagePullPolicy: opts.imagePullPolicy,
    nativeSidecars,
  };
  const optIn: OptInContext = { operatorNamespace: opts.operatorNamespace };
  const metrics = new WebhookMetrics(opts.registry);
  const namespaces = new CachedNamespaces(client, log);
  const allowances = new CachedAllowances(client, log);
  const certificates: CertificateSource =
    opts.certMode === 'files'
      ? new FileCertificates(opts.certDir ?? '/etc/kube-dlp/webhook-tls', {
          onError: (err) => log.warn({ err: err.message }, 'webhook certificate files unreadable; keeping the current ones'),
        })
      : new SelfManagedCertificates({
          client,
          namespace: opts.operatorNamespace,
          webhookConfigurationName: opts.webhookConfigurationName ?? WEBHOOK_CONFIGURATION_NAME,
          webhookUrl: opts.url,
          policy: {
            ...DEFAULT_ROTATION_POLICY,
            ...opts.rotation,
            // With a URL the Service's names stay too: the same Secret serves
            // an in-cluster replica if one runs beside the developer's.
            dnsNames: opts.url
              ? [...new Set([...(opts.dnsNames ?? []), ...serviceDnsNames(opts.operatorNamespace)])]
              : (opts.dnsNames ?? serviceDnsNames(opts.operatorNamespace)),
            ipAddresses: opts.ipAddresses ?? [],
          },
          checkIntervalMs: opts.certCheckIntervalMs,
          log,
        });

  if (opts.installAdmissionPolicy) {
    await installAdmissionPolicy(client, { image: config.image, command: config.command }, opts.operatorNamespace);
    log.info({ policy: ADMISSION_POLICY_NAME }, 'admission policy installed');
  }
  // Caches first: the first admission request should not wait on GETs.
  await Promise.all([namespaces.informer.start(), allowances.informer.start()]);
  const identity = await certificates.start();
  const handler = new InjectionHandler({
    template,
    config,
    defaultCaptureMode: opts.defaultCaptureMode ?? 'explicit',
    protectCaptureMode: opts.protectCaptureMode ?? 'transparent',
    events: opts.events,
    optIn,
    failurePolicy: opts.failurePolicy ?? 'Fail',
    namespaces,
    allowances,
    metrics,
    log,
  });
  const server = new WebhookServer({ handler, metrics, log, identity, observe: opts.observeRequest });
  certificates.onChange((next) => {
    server.setIdentity(next);
    log.info({}, 'webhook serving certificate reloaded');
  });
  const address = await server.listen(opts.listen ?? { host: '0.0.0.0', port: WEBHOOK_CONTAINER_PORT });
  log.info({ webhook: `${address.host}:${address.port}`, nativeSidecars, certMode: opts.certMode ?? 'self' }, 'injection webhook serving');

  let rollout: { controller: RolloutController; pods: Informer<ReturnType<typeof toRolloutPodView>> } | undefined;
  const stopRollout = () => {
    rollout?.controller.stop();
    rollout?.pods.stop();
    rollout = undefined;
  };
  return {
    address,
    metrics,
    certificates,
    clusterVersion,
    nativeSidecars,
    async startRollout() {
      if (rollout) return rollout.controller;
      const pods = new Informer(client, { resource: PODS, toView: toRolloutPodView, log });
      const controller = new RolloutController({
        client,
        events: opts.events,
        metrics,
        log,
        optIn,
        namespaces: namespaces.informer,
        pods,
        maxRestartsPerMinute: opts.maxRestartsPerMinute,
        intervalMs: opts.rolloutIntervalMs,
      });
      rollout = { controller, pods };
      await pods.start();
      controller.start();
      return controller;
    },
    stopRollout,
    async close() {
      stopRollout();
      certificates.stop();
      await server.close();
      namespaces.informer.stop();
      allowances.informer.stop();
    },
  };
}
