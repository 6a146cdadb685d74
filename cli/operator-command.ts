// `kube-dlp operator`: the controller that renders SecurityProfiles into
// opted-in namespaces. Out of cluster it uses --kubeconfig (or KUBECONFIG);
// in a pod, its service account.
import type { Command } from 'commander';
import { OperatorOptionsError } from '../operator/errors';
import type { OperatorOptions } from '../operator/run';
import { parseListenAddress } from '../operator/admin/admin-server';
import { parseWebhookHost, type WebhookHost } from '../operator/webhook/webhook-host';
import { UsageError } from './exit-codes';

export interface OperatorCommandOptions {
  kubeconfig?: string;
  namespace?: string;
  admin: string;
  leaderElect?: boolean;
  leaseName?: string;
  leaseDuration: string;
  renewDeadline: string;
  retryPeriod: string;
  identity?: string;
  concurrency: string;
  clusterNetwork: string[];
  logLevel: string;
  skipPermissionCheck?: boolean;
  proxyImage?: string;
  webhookListen: string;
  webhookHost?: string;
  webhookFailurePolicy: string;
  webhookCertMode: string;
  webhookCertDir: string;
  captureMode: string;
  protectCaptureMode: string;
  admissionPolicy: boolean;
  rolloutRate: string;
  proposalInterval: string;
  tenantCa: string;
  tenantCaValidity: string;
  tenantCaOverlap: string;
  tenantCaCheckInterval: string;
}

export function registerOperatorCommand(program: Command): void {
  program
    .command('operator')
    .description('run the operator: render SecurityProfiles into opted-in namespaces, mirror labels, isolate tenants')
    .option('--kubeconfig <file>', 'kubeconfig to use (default: in-cluster service account, else $KUBECONFIG or ~/.kube/config)')
    .option('--namespace <name>', "the operator's namespace: Lease, never injected (default: $POD_NAMESPACE, else kube-dlp-system)")
    .option('--admin <host:port>', 'admin address for /metrics, /healthz, /readyz', '127.0.0.1:15091')
    .option('--leader-elect', 'campaign for a Lease before reconciling (run several replicas safely)')
    .option('--lease-name <name>', 'name of the leader-election Lease (default kube-dlp-operator)')
    .option('--lease-duration <duration>', 'how long a Lease is valid without renewal (e.g. 15s)', '15s')
    .option('--renew-deadline <duration>', 'a leader that cannot renew for this long steps down', '10s')
    .option('--retry-period <duration>', 'time between attempts to acquire or renew the Lease', '2s')
    .option('--identity <id>', 'replica identity in the Lease (default: $POD_NAME, else hostname_pid)')
    .option('--concurrency <n>', 'namespaces reconciled in parallel', '8')
    .option('--cluster-network <cidr>', 'in-cluster range for the tenant directory, in addition to ServiceCIDR objects (repeatable)', collect, [])
    .option('--log-level <level>', 'trace, debug, info, warn or error', 'info')
    .option('--skip-permission-check', 'do not verify the RBAC permissions at startup')
    .option('--proxy-image <image>', "kube-dlp image the webhook injects (default: in a pod, the operator's own image; out of cluster the webhook is off without it)")
    .option('--webhook-listen <host:port>', 'injection webhook HTTPS address', '0.0.0.0:9443')
    .option('--webhook-host <host[:port]>', 'out of cluster: serve the webhook at this address the API server can reach (listen there, name it in the certificate, register it as the webhook URL instead of the Service)')
    .option('--webhook-failure-policy <policy>', 'Fail or Ignore: must match the MutatingWebhookConfiguration', 'Fail')
    .option('--webhook-cert-mode <mode>', 'self (own CA in a Secret, caBundle patched) or files (cert-manager Secret mounted)', 'self')
    .option('--webhook-cert-dir <dir>', 'with --webhook-cert-mode files: folder holding tls.crt and tls.key', '/etc/kube-dlp/webhook-tls')
    .option('--capture-mode <mode>', 'capture mode for pods that name none in Monitor namespaces: explicit (HTTP_PROXY) or transparent (iptables, needs NET_ADMIN)', 'explicit')
    .option('--protect-capture-mode <mode>', 'the same in Protect namespaces (explicit lets apps that ignore HTTP_PROXY bypass the proxy)', 'transparent')
    .option('--no-admission-policy', 'do not install the ValidatingAdmissionPolicy that refuses unprotected pods while the operator is down')
    .option('--rollout-rate <n>', 'workload restarts per namespace per minute for kubedlp.io/rollout: auto', '2')
    .option('--tenant-ca <source>', 'TLS interception CA per tenant: self (the operator creates and rotates it), cert-manager (consumes the Secret a Certificate writes, config/certmanager) or off', 'self')
    .option('--tenant-ca-validity <duration>', 'with --tenant-ca self: lifetime of a new tenant CA', '365d')
    .option('--tenant-ca-overlap <duration>', 'with --tenant-ca self: how long the next CA is trusted before it signs, and the old one after (the longest a pod may run across a rotation)', '30d')
    .option('--tenant-ca-check-interval <duration>', 'how often tenant CAs are checked for rotation and cleanup', '10m')
    .option('--proposal-interval <duration>', 'how often Monitor-mode namespaces get a SecurityProfileProposal from their sidecars (0 = off)', '5m')
    .action(async (o: OperatorCommandOptions) => {
      const controller = new AbortController();
      const onSignal = () => controller.abort();
      process.once('SIGTERM', onSignal);
      process.once('SIGINT', onSignal);
      try {
        const options = toRunOptions(o);
        // The operator and its Kubernetes client load only for this command:
        // every injected sidecar runs this same CLI, as `kube-dlp proxy`.
        const { runOperator } = await import('../operator/run');
        process.exitCode = await runOperator(options, controller.signal);
      } catch (err) {
        if (err instanceof OperatorOptionsError) throw new UsageError(err.message);
        throw err;
      } finally {
        process.off('SIGTERM', onSignal);
        process.off('SIGINT', onSignal);
      }
    });
}

function collect(value: string, previous: string[]): string[] {
  return [...previous, value];
}

export function toRunOptions(o: OperatorCommandOptions): OperatorOptions {
  const concurrency = Number(o.concurrency);
  if (!Number.isInteger(concurrency) || concurrency < 1) throw new UsageError(`--concurrency must be a positive integer, got ${o.concurrency}`);
  if (!['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent'].includes(o.logLevel)) {
    throw new UsageError(`--log-level must be trace, debug, info, warn or error, got ${o.logLevel}`);
  }
  return {
    kubeconfig: o.kubeconfig,
    namespace: o.namespace,
    admin: o.admin,
    leaderElect: o.leaderElect ?? false,
    leaseName: o.leaseName,
    leaseDurationMs: parseDuration('--lease-duration', o.leaseDuration),
    renewDeadlineMs: parseDuration('--renew-deadline', o.renewDeadline),
    retryPeriodMs: parseDuration('--retry-period', o.retryPeriod),
    identity: o.identity,
    concurrency,
    clusterNetworks: o.clusterNetwork,
    logLevel: o.logLevel,
    skipPermissionCheck: o.skipPermissionCheck ?? false,
    webhook: webhookOptions(o),
    tenantCa: tenantCaOptions(o),
    proposalIntervalMs: o.proposalInterval === undefined || o.proposalInterval.trim() === '0' ? undefined : parseDuration('--proposal-interval', o.proposalInterval),
  };
}

function tenantCaOptions(o: OperatorCommandOptions): OperatorOptions['tenantCa'] {
  if (o.tenantCa === 'off') return undefined;
  if (o.tenantCa !== 'self' && o.tenantCa !== 'cert-manager') throw new UsageError(`--tenant-ca must be self, cert-manager or off, got ${o.tenantCa}`);
  const lifetimeMs = parseDuration('--tenant-ca-validity', o.tenantCaValidity);
  const overlapMs = parseDuration('--tenant-ca-overlap', o.tenantCaOverlap);
  // Two overlaps (trust the next, then keep the old) must fit in the last third of a CA's life.
  if (overlapMs * 2 > lifetimeMs / 3) throw new UsageError('--tenant-ca-overlap must be at most a sixth of --tenant-ca-validity (a rotation starts with a third of the lifetime left)');
  return {
    source: o.tenantCa,
    policy: { lifetimeMs, overlapMs, renewFraction: 1 / 3 },
    checkIntervalMs: parseDuration('--tenant-ca-check-interval', o.tenantCaCheckInterval),
  };
}

/**
 * The webhook runs when an image to inject is known: --proxy-image, or in a
 * pod (POD_NAME from the downward API) the operator's own image.
 */
function webhookOptions(o: OperatorCommandOptions, env: NodeJS.ProcessEnv = process.env): OperatorOptions['webhook'] {
  if (!o.proxyImage && !env.POD_NAME) {
    if (o.webhookHost) throw new UsageError('--webhook-host needs --proxy-image outside a pod: the image the webhook injects');
    return undefined;
  }
  const oneOf = <T extends string>(flag: string, value: string, allowed: readonly T[]): T => {
    if (!(allowed as readonly string[]).includes(value)) throw new UsageError(`${flag} must be ${allowed.join(' or ')}, got ${value}`);
    return value as T;
  };
  const rate = Number(o.rolloutRate);
  if (!Number.isInteger(rate) || rate < 1) throw new UsageError(`--rollout-rate must be a positive integer, got ${o.rolloutRate}`);
  let host: WebhookHost | undefined;
  try {
    host = o.webhookHost ? parseWebhookHost(o.webhookHost) : undefined;
  } catch (err) {
    throw new UsageError((err as Error).message);
  }
  return {
    image: o.proxyImage ?? { followPod: env.POD_NAME as string },
    listen: host?.listen ?? parseListenAddress(o.webhookListen),
    ...(host ? { url: host.url, dnsNames: host.dnsNames, ipAddresses: host.ipAddresses } : {}),
    failurePolicy: oneOf('--webhook-failure-policy', o.webhookFailurePolicy, ['Fail', 'Ignore'] as const),
    certMode: oneOf('--webhook-cert-mode', o.webhookCertMode, ['self', 'files'] as const),
    certDir: o.webhookCertDir,
    defaultCaptureMode: oneOf('--capture-mode', o.captureMode, ['explicit', 'transparent'] as const),
    protectCaptureMode: oneOf('--protect-capture-mode', o.protectCaptureMode, ['explicit', 'transparent'] as const),
    installAdmissionPolicy: o.admissionPolicy,
    maxRestartsPerMinute: rate,
  };
}

/** "15s", "500ms", "2m", or plain seconds ("15"). */
export function parseDuration(flag: string, text: string): number {
  const m = /^(\d+(?:\.\d+)?)(ms|s|m|h|d)?$/.exec(text.trim());
  if (!m) throw new UsageError(`${flag} must be a duration like 15s, 500ms, 1m, 2h or 30d, got ${JSON.stringify(text)}`);
  const n = Number(m[1]);
  const unit = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 }[m[2] ?? 's']!;
  const ms = n * unit;
  if (!(ms > 0)) throw new UsageError(`${flag} must be positive`);
  return Math.round(ms);
}

/**
 * Standalone entry (`node dist/cli/operator-command.js [flags]`), the same
 * command without the rest of the CLI; `kube-dlp operator` is the usual way.
 */
if (require.main === module) {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const { Command } = require('commander') as typeof import('commander');
  const program = new Command('kube-dlp').exitOverride();
  registerOperatorCommand(program);
  program.parseAsync(['node', 'kube-dlp', 'operator', ...process.argv.slice(2)]).catch((err: Error) => {
    if ((err as { code?: string }).code?.startsWith('commander.')) {
      process.exitCode = (err as { exitCode?: number }).exitCode ?? 2;
      return;
    }
    process.stderr.write(`kube-dlp operator: ${err.message}\n`);
    process.exitCode = 2;
  });
}
