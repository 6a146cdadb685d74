// `kube-dlp proxy`: the DLP egress proxy, standalone or as the sidecar the
// operator injects. Identity (pod, namespace, tenant) defaults to what the
// downward API provides as environment variables.
import { hostname } from 'node:os';
import type { Command } from 'commander';
import { ProfileError } from '../proxy/profile';
import type { ListenAddress } from '../proxy/http/loop-guard';
import { startProxy, type RunningProxy } from '../proxy/start-proxy';
import { UsageError } from './exit-codes';
import { TenancyConfigError, TenantDirectoryError } from '../proxy/tenancy/errors';
import { CaptureOptionsError, OriginalDestinationError } from '../proxy/transparent/errors';
import { parsePortNumbers } from '../proxy/transparent/attach';
import { InterceptError } from '../proxy/tls/errors';
import { DEFAULT_RELEASE_MEMORY_QUIET_MS } from '../proxy/server/release-memory-when-idle';

export interface ProxyCommandOptions {
  profile: string;
  listen?: string;
  mode: string;
  tenantDirectory?: string;
  clusterDomain?: string;
  sniffTimeout: string;
  clientFirstPorts: string;
  admin: string;
  namespace?: string;
  tenant?: string;
  pod?: string;
  auditLog?: string;
  drainTimeout: string;
  upstreamTimeout: string;
  headersTimeout: string;
  requestTimeout: string;
  keepAliveTimeout: string;
  maxSockets: string;
  dnsCacheTtl: string;
  releaseMemoryAfter: string;
  interceptCaDir?: string;
  upstreamCaFile?: string;
}

export function registerProxyCommand(program: Command): void {
  program
    .command('proxy')
    .description('run the DLP egress proxy (explicit HTTP forward proxy: set HTTP_PROXY/HTTPS_PROXY to --listen)')
    .requiredOption('--profile <file>', 'SecurityProfile or rendered profile; reloaded when the file changes')
    .option('--listen <host:port>', 'proxy address (default 127.0.0.1:15001; [::]:15001 in transparent mode)')
    .option('--mode <mode>', 'explicit (HTTP_PROXY clients) or transparent (connections redirected by init-iptables)', 'explicit')
    .option('--tenant-directory <file>', "operator's tenants.yaml for tenancy.denyCrossTenant (default: $KUBEDLP_TENANT_DIRECTORY); reloaded on change")
    .option('--cluster-domain <list>', 'cluster DNS domains, comma-separated (default: $KUBEDLP_CLUSTER_DOMAIN, else cluster.local)')
    .option('--sniff-timeout <seconds>', 'transparent mode: silence after which a captured connection is relayed as plain TCP', '1')
    .option('--client-first-ports <list>', 'transparent mode: ports where a silent client is waited for up to --headers-timeout (HTTP, TLS)', '80,443,8080,8443')
    .option('--admin <host:port>', 'admin address for /metrics, /healthz, /readyz ("off" to disable)', '127.0.0.1:15090')
    .option('--namespace <name>', 'namespace of the workload (default: $POD_NAMESPACE)')
    .option('--tenant <name>', 'tenant of the workload (default: $KUBEDLP_TENANT)')
    .option('--pod <name>', 'pod name (default: $POD_NAME, else the host name)')
    .option('--audit-log <file>', 'write audit JSON lines to this file instead of stdout')
    .option('--drain-timeout <seconds>', 'on SIGTERM, how long in-flight requests may finish', '10')
    .option('--upstream-timeout <seconds>', 'upstream inactivity before 504', '30')
    .option('--headers-timeout <seconds>', 'time a client has to send request headers before 408', '30')
    .option('--request-timeout <seconds>', 'time a client has to send a whole request, body included, before 408 (0: no limit)', '300')
    .option('--keep-alive-timeout <seconds>', 'idle client keep-alive connections are closed after this', '5')
    .option('--max-sockets <n>', 'concurrent upstream connections per destination', '256')
    .option('--dns-cache-ttl <seconds>', "explicit mode: how long a destination name's addresses are reused (0: look the name up for every request)", '5')
    .option('--release-memory-after <seconds>', 'quiet time after traffic before free native heap is handed back to the kernel, once per quiet period (0: never)', String(DEFAULT_RELEASE_MEMORY_QUIET_MS / 1000))
    .option('--intercept-ca-dir <dir>', 'TLS interception CA: a directory with tls.crt and tls.key (a mounted kubernetes.io/tls Secret), re-read when it changes; used when the profile sets tls.intercept: Enabled')
    .option('--upstream-ca-file <file>', 'PEM bundle of extra roots trusted for intercepted upstreams, beside the system roots')
    .action(async (opts: ProxyCommandOptions) => {
      process.exitCode = await runProxy(opts, process.env);
    });
}

export async function runProxy(opts: ProxyCommandOptions, env: NodeJS.ProcessEnv): Promise<number> {
  if (opts.mode !== 'explicit' && opts.mode !== 'transparent') throw new UsageError('--mode must be explicit or transparent');
  const listen = parseAddress('--listen', opts.listen ?? (opts.mode === 'transparent' ? '[::]:15001' : '127.0.0.1:15001'));
  const admin = opts.admin === 'off' ? undefined : parseAddress('--admin', opts.admin);
  const drainMs = seconds('--drain-timeout', opts.drainTimeout);
  let running: RunningProxy;
  try {
    running = await startProxy({
      profilePath: opts.profile,
      listen,
      admin,
      identity: {
        namespace: opts.namespace ?? nonEmpty(env.POD_NAMESPACE) ?? 'default',
        tenant: opts.tenant ?? nonEmpty(env.KUBEDLP_TENANT) ?? 'default',
        pod: opts.pod ?? nonEmpty(env.POD_NAME) ?? hostname(),
      },
      audit: opts.auditLog ? { file: opts.auditLog } : 'stdout',
      timeouts: {
        upstreamMs: seconds('--upstream-timeout', opts.upstreamTimeout),
        headersMs: seconds('--headers-timeout', opts.headersTimeout),
        requestMs: secondsOrOff('--request-timeout', opts.requestTimeout),
        keepAliveMs: seconds('--keep-alive-timeout', opts.keepAliveTimeout),
      },
      upstream: { maxSockets: positiveInt('--max-sockets', opts.maxSockets) },
      dnsCacheTtlMs: secondsOrOff('--dns-cache-ttl', opts.dnsCacheTtl),
      releaseMemoryQuietMs: secondsOrOff('--release-memory-after', opts.releaseMemoryAfter),
      mode: opts.mode,
      transparent: {
        timeouts: { sniffMs: seconds('--sniff-timeout', opts.sniffTimeout), clientFirstSniffMs: seconds('--headers-timeout', opts.headersTimeout) },
        clientFirstPorts: parsePortNumbers('--client-first-ports', opts.clientFirstPorts),
      },
      intercept: { caDir: opts.interceptCaDir, upstreamCaFile: opts.upstreamCaFile },
      tenancy: {
        directoryPath: opts.tenantDirectory ?? nonEmpty(env.KUBEDLP_TENANT_DIRECTORY),
        clusterDomains: [opts.clusterDomain ?? nonEmpty(env.KUBEDLP_CLUSTER_DOMAIN) ?? ''],
      },
    });
  } catch (err) {
    if (err instanceof ProfileError) throw new UsageError(err.message);
    // Tenant directory, cluster domains, transparent mode without the native addon: fixable by the user.
    if (err instanceof TenantDirectoryError || err instanceof TenancyConfigError || err instanceof OriginalDestinationError || err instanceof CaptureOptionsError || err instanceof InterceptError) {
      throw new UsageError(err.message);
    }
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'EADDRINUSE' || code === 'EACCES' || code === 'EADDRNOTAVAIL') {
      throw new UsageError(`cannot listen (${code}); check --listen and --admin`);
    }
    throw err;
  }

  await new Promise<void>((resolve) => {
    const shutdown = (signal: NodeJS.Signals): void => {
      process.off('SIGTERM', shutdown);
      process.off('SIGINT', shutdown);
      process.stderr.write(`kube-dlp proxy: ${signal}, draining for up to ${drainMs / 1000}s\n`);
      running.stop(drainMs).then(resolve, resolve);
    };
    process.on('SIGTERM', shutdown);
    process.on('SIGINT', shutdown);
  });
  return 0;
}

export function parseAddress(flag: string, value: string): ListenAddress {
  const m = /^(?:\[([0-9a-fA-F:.]+)\]|([^:\s]+)):(\d{1,5})$/.exec(value.trim());
  const port = m ? Number(m[3]) : NaN;
  if (!m || port > 65535) throw new UsageError(`${flag} must be host:port (got ${JSON.stringify(value)})`);
  return { host: m[1] ?? m[2]!, port };
}

function seconds(flag: string, value: string): number {
  const n = Number(value);
  if (!Number.isFinite(n) || n <= 0) throw new UsageError(`${flag} must be a positive number of seconds`);
  return Math.round(n * 1000);
}

/** Like seconds(), with 0 meaning off (--request-timeout: no limit; --dns-cache-ttl: no reuse; --release-memory-after: never). */
function secondsOrOff(flag: string, value: string): number {
  const n = Number(value);
  if (value.trim() === '' || !Number.isFinite(n) || n < 0) throw new UsageError(`${flag} must be a number of seconds (0: off)`);
  return Math.round(n * 1000);
}

function positiveInt(flag: string, value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n <= 0) throw new UsageError(`${flag} must be a positive integer`);
  return n;
}

function nonEmpty(value: string | undefined): string | undefined {
  return value !== undefined && value.trim() !== '' ? value.trim() : undefined;
}
