// The operator process: credentials, admin port, permission check, then
// either reconcile right away or campaign for the Lease first. Shutdown on
// SIGTERM/SIGINT (or the caller's signal) drains in-flight reconciles and
// releases the Lease so a successor takes over at once; losing the Lease
// stops reconciling and exits non-zero (the Deployment restarts the pod, which
// then campaigns again from clean caches).
import { existsSync, readFileSync } from 'node:fs';
import { hostname } from 'node:os';
import pino from 'pino';
import { AdminServer, parseListenAddress, type ListenAddress } from './admin/admin-server';
import { OperatorController } from './controller/controller';
import { LEADER_LEASE_NAME } from './api/names';
import { OperatorOptionsError } from './errors';
import { KubeClient } from './kube/client';
import { EventRecorder } from './kube/events';
import { loadKubeConfig } from './kube/kube-config';
import { LeaderElector } from './kube/leader-election';
import type { Logger } from './kube/logger';
import { OperatorMetrics } from './metrics/operator-metrics';
import { checkPermissions } from './rbac/access-check';
import { ProfileValidator } from './validation/profile-validator';
import { KubeApiError } from './errors';
import { MUTATING_WEBHOOK_CONFIGURATIONS } from './kube/resources';
import { ownImage } from './webhook/own-image';
import { WEBHOOK_CONFIGURATION_NAME } from './webhook/webhook-configuration';
import { startInjection, type InjectionOptions, type RunningInjection } from './run-injection';
import { ProposalCollector, runProposalLoop } from './discover/proposal-collector';
import { TenantCaStore, type TenantCaSource } from './tls-ca/tenant-ca-store';
import type { TenantCaPolicy } from './tls-ca/tenant-ca-plan';

export interface OperatorOptions {
  kubeconfig?: string;
  /** The operator's namespace (Lease, exemption from injection and isolation). */
  namespace?: string;
  /** Admin listen address; default 127.0.0.1:15091. */
  admin?: string;
  leaderElect?: boolean;
  leaseName?: string;
  leaseDurationMs?: number;
  renewDeadlineMs?: number;
  retryPeriodMs?: number;
  /** Unique replica identity; default POD_NAME or hostname_pid. */
  identity?: string;
  concurrency?: number;
  /** In-cluster ranges to add to those read from ServiceCIDR objects. */
  clusterNetworks?: string[];
  logLevel?: string;
  /** Skip the startup permission check (it needs a SelfSubjectAccessReview per verb). */
  skipPermissionCheck?: boolean;
  /** The sidecar injection webhook (served by every replica; its rollout runs on the leader). Off when unset. */
  webhook?: Omit<InjectionOptions, 'client' | 'log' | 'registry' | 'events' | 'operatorNamespace' | 'image'> & {
    /** The image to inject, or the operator's Pod whose image the proxy follows. */
    image: string | { followPod: string };
  };
  /** Tenant interception CAs; off when unset. */
  tenantCa?: { source: TenantCaSource; policy: TenantCaPolicy; checkIntervalMs?: number };
  /** How often Monitor-mode namespaces get a SecurityProfileProposal from their sidecars' /observed; off when unset or 0. */
  proposalIntervalMs?: number;
  /** Called once the admin server listens (tests use port 0). */
  onAdminListening?(address: ListenAddress): void;
  log?: Logger;
}

export const EXIT_OK = 0;
export const EXIT_FAILED = 1;
/** Leadership lost: the replica must restart and campaign again. */
export const EXIT_LEADERSHIP_LOST = 3;

const IN_CLUSTER_NAMESPACE_FILE = '/var/run/secrets/kubernetes.io/serviceaccount/namespace';

export function operatorNamespace(explicit?: string): string {
  if (explicit) return explicit;
  if (process.env.POD_NAMESPACE) return process.env.POD_NAMESPACE;
  if (existsSync(IN_CLUSTER_NAMESPACE_FILE)) return readFileSync(IN_CLUSTER_NAMESPACE_FILE, 'utf8').trim();
  return 'kube-dlp-system';
}

/** Runs until `signal` aborts (exit 0) or leadership is lost; returns the exit code. */
export async function runOperator(opts: OperatorOptions, signal: AbortSignal): Promise<number> {
  const log: Logger = opts.log ?? pino({ level: opts.logLevel ?? 'info', base: { component: 'kube-dlp-operator' } });
  const namespace = operatorNamespace(opts.namespace);
  const adminAddress = parseListenAddress(opts.admin ?? '127.0.0.1:15091');
  const identity = opts.identity || process.env.POD_NAME || `${hostname()}_${process.pid}`;
  if (opts.concurrency !== undefined && !(Number.isInteger(opts.concurrency) && opts.concurrency > 0)) {
    throw new OperatorOptionsError(`--concurrency must be a positive integer, got ${opts.concurrency}`);
  }

  const kubeConfig = loadKubeConfig({ kubeconfig: opts.kubeconfig });
  const client = await KubeClient.create(kubeConfig);
  const metrics = new OperatorMetrics({ processMetrics: true });
  const validator = new ProfileValidator();
  const events = new EventRecorder(client, { instance: identity, log });
  const controller = new OperatorController({
    client,
    validator,
    events,
    metrics,
    log,
    ctx: { operatorNamespace: namespace },
    concurrency: opts.concurrency,
    extraClusterNetworks: opts.clusterNetworks,
    tenantCa: opts.tenantCa ? new TenantCaStore({ client, namespace, source: opts.tenantCa.source, policy: opts.tenantCa.policy, log }) : undefined,
    tenantCaCheckMs: opts.tenantCa?.checkIntervalMs,
  });
  const elector = opts.leaderElect
    ? new LeaderElector(client, {
        namespace,
        name: opts.leaseName ?? LEADER_LEASE_NAME,
        identity,
        leaseDurationMs: opts.leaseDurationMs,
        renewDeadlineMs: opts.renewDeadlineMs,
        retryPeriodMs: opts.retryPeriodMs,
        log,
      })
    : undefined;

  let state: 'starting' | 'standby' | 'syncing' | 'leading' | 'stopping' = 'starting';
  /** Set when nothing serves the installed webhook configuration: readiness says so. */
  let webhookGap: string | undefined;
  const admin = new AdminServer({
    metrics,
    notReadyReason: () => {
      if (webhookGap) return webhookGap;
      if (state === 'standby') return undefined; // ready to take over
      if (state === 'leading' && controller.ready) return undefined;
      return state === 'leading' ? 'caches syncing' : state;
    },
  });
  const listening = await admin.listen(adminAddress);
  opts.onAdminListening?.(listening);
  log.info({ admin: `${listening.host}:${listening.port}`, namespace, identity, leaderElect: !!elector }, 'operator starting');

  const stop = new AbortController();
  const onAbort = () => stop.abort();
  signal.addEventListener('abort', onAbort, { once: true });
  let exitCode = EXIT_OK;
  let injection: RunningInjection | undefined;
  const proposals = new AbortController();
  let proposalLoop: Promise<void> | undefined;
  try {
    if (!opts.skipPermissionCheck) await checkPermissions(client, namespace);
    if (opts.webhook) {
      const { image } = opts.webhook;
      const proxyImage = typeof image === 'string' ? image : await ownImage(client, namespace, image.followPod);
      injection = await startInjection({ ...opts.webhook, image: proxyImage, client, log, registry: metrics.registry, events, operatorNamespace: namespace });
      log.info({ proxyImage, listen: `${injection.address.host}:${injection.address.port}` }, 'injection webhook serving');
    } else {
      // Out of cluster without --proxy-image: nothing answers the
      // MutatingWebhookConfiguration, and with failurePolicy Fail pod
      // creation in opted-in namespaces is refused until something does.
      log.warn({}, 'injection webhook OFF: no --proxy-image and not running in a pod (no POD_NAME); pods in opted-in namespaces are refused while the kube-dlp-injector webhook configuration points at this operator');
      if (await webhookConfigurationInstalled(client)) {
        webhookGap = `injection webhook off (no --proxy-image) but MutatingWebhookConfiguration ${WEBHOOK_CONFIGURATION_NAME} is installed: pod creation in opted-in namespaces fails`;
      }
    }
    if (elector) {
      state = 'standby';
      metrics.leader.set(0);
      elector.on('new-leader', (holder) => log.info({ leader: holder }, 'leader observed'));
      elector.on('stopped-leading', () => {
        exitCode = EXIT_LEADERSHIP_LOST;
        stop.abort();
      });
      if (!(await elector.acquire(stop.signal))) return EXIT_OK;
    }
    metrics.leader.set(1);
    state = 'leading';
    await controller.start();
    await injection?.startRollout();
    if (opts.proposalIntervalMs) {
      const collector = new ProposalCollector({ client, log, operatorNamespace: namespace });
      proposalLoop = runProposalLoop(collector, opts.proposalIntervalMs, proposals.signal, log);
    }
    log.info({}, 'reconciling');
    await new Promise<void>((resolve) => (stop.signal.aborted ? resolve() : stop.signal.addEventListener('abort', () => resolve(), { once: true })));
    return exitCode;
  } catch (err) {
    log.error({ err: err instanceof Error ? err.message : String(err), code: (err as { code?: string }).code }, 'operator failed');
    exitCode = EXIT_FAILED;
    return exitCode;
  } finally {
    state = 'stopping';
    signal.removeEventListener('abort', onAbort);
    proposals.abort();
    await proposalLoop;
    await controller.stop();
    await injection?.close();
    metrics.leader.set(0);
    // Released only after the last reconcile finished: a successor never overlaps with us.
    if (exitCode !== EXIT_LEADERSHIP_LOST) await elector?.release();
    validator.close();
    await admin.close();
    client.close();
    log.info({ exitCode }, 'operator stopped');
  }
}

async function webhookConfigurationInstalled(client: KubeClient): Promise<boolean> {
  try {
    await client.get(MUTATING_WEBHOOK_CONFIGURATIONS, WEBHOOK_CONFIGURATION_NAME);
    return true;
  } catch (err) {
    if (err instanceof KubeApiError && (err.notFound || err.status === 403)) return false;
    throw err;
  }
}
