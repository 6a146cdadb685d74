// Assembles a running proxy from a profile file: metrics, audit log, profile
// watcher (hot reload), the proxy port and the admin port. The CLI, the
// integration tests, the bench and the demo all start the proxy through
// here, so they exercise the same wiring.
import pino from 'pino';
import { ProfileWatcher, type ProfileWatcherOptions, type RuntimeConfig } from './profile';
import { AdminServer } from './admin/admin-server';
import { AuditLog, type AuditSink } from './audit/audit-log';
import type { ListenAddress } from './http/loop-guard';
import { ProxyMetrics } from './metrics/proxy-metrics';
import { OutcomeReporter } from './exchange/outcome-reporter';
import { DEFAULT_TIMEOUTS, ProxyServer, type ProxyTimeouts } from './server/proxy-server';
import type { ProxyIdentity } from './exchange/request-context';
import type { ForwarderOptions } from './http/forwarder';
import { systemResolver, type NameResolver } from './http/name-resolver';
import { cachingResolver, DEFAULT_DNS_CACHE_TTL_MS, DNS_CACHE_NAMES } from './http/cached-resolver';
import { startTenancy, type TenancyRuntime, type TenancyRuntimeOptions } from './tenancy/tenancy-runtime';
import { TlsOriginator } from './tls/origination';
import tls from 'node:tls';
import type { InterceptCaSource } from './tls/intercept-ca-source';
import { LeafCache } from './tls/leaf-cache';
import { TlsInterceptor } from './tls/tls-interceptor';
import type { UpstreamPoolOptions } from './tls/upstream-pool';
import { UpstreamTrust } from './tls/upstream-trust';
import { attachTransparentListener, type TransparentModeOptions } from './transparent/attach';
import type { TransparentListener } from './transparent/transparent-listener';
import { ObservedEgress, type ObservedEgressOptions } from './observe/observed-egress';
import { DEFAULT_RELEASE_MEMORY_QUIET_MS, ReleaseMemoryWhenIdle } from './server/release-memory-when-idle';
import { unusedMemoryRelease, type ReleaseUnusedMemory } from './server/unused-memory';

export interface StartProxyOptions {
  profilePath: string;
  listen: ListenAddress;
  /** Admin port (/metrics, /healthz, /readyz); omit to run without one. */
  admin?: ListenAddress;
  identity: ProxyIdentity;
  /** Where audit lines go. Default stdout. */
  audit?: AuditSink;
  /** Folding window for repeated identical audit events. Default 10 s. */
  auditRepeatWindowMs?: number;
  /** Operational log (startup, reloads, engine fallback). Default: JSON lines on stderr. */
  logger?: pino.Logger;
  timeouts?: Partial<ProxyTimeouts>;
  upstream?: ForwarderOptions;
  maxHeaderBytes?: number;
  watcher?: ProfileWatcherOptions;
  /** explicit (default): clients use the proxy as HTTP_PROXY; transparent: connections redirected by `kube-dlp init-iptables`. */
  mode?: 'explicit' | 'transparent';
  transparent?: TransparentModeOptions;
  /** Tenant directory and cluster domains, for the profile's tenancy.denyCrossTenant. */
  tenancy?: TenancyRuntimeOptions;
  /** Explicit-mode name resolution; default the system resolver (tests inject answers here). */
  resolver?: NameResolver;
  /** How long a destination name's answer is reused (cached-resolver.ts); default 5 s, 0 looks every request up. */
  dnsCacheTtlMs?: number;
  /** Bounds of the observed-egress summary served at /observed. */
  observed?: ObservedEgressOptions;
  /** TLS interception (profile tls.intercept): the CA directory and extra upstream roots. */
  intercept?: InterceptOptions;
  /** Quiet time after traffic before free native heap goes back to the kernel (release-memory-when-idle.ts); default 10 s, 0 never. */
  releaseMemoryQuietMs?: number;
}

export interface InterceptOptions {
  /** Directory with tls.crt and tls.key (a mounted kubernetes.io/tls Secret); re-read every `caPollMs`. */
  caDir?: string;
  /** PEM bundle of extra roots for upstreams, beside the system roots. */
  upstreamCaFile?: string;
  /** Default 5000. */
  caPollMs?: number;
  /** Leaves kept. Default 1024. */
  leafCacheSize?: number;
  /** Idle upstream connections kept for later clients of the same upstream (upstream-pool.ts); `maxTotal: 0` keeps none. */
  upstreamPool?: UpstreamPoolOptions;
}

export interface RunningProxy {
  proxyAddress: ListenAddress;
  adminAddress?: ListenAddress;
  metrics: ProxyMetrics;
  /** What the pod sent, value-free (also served at the admin port's /observed). */
  observed: ObservedEgress;
  /** The profile new requests get right now. */
  currentProfile(): RuntimeConfig;
  /** Stop accepting, finish in-flight work for up to `deadlineMs`, then release everything. */
  stop(deadlineMs?: number): Promise<void>;
}

export async function startProxy(opts: StartProxyOptions): Promise<RunningProxy> {
  const logger =
    opts.logger ??
    pino(
      {
        base: { component: 'kube-dlp-proxy' },
        timestamp: pino.stdTimeFunctions.isoTime,
        formatters: { level: (label) => ({ level: label }) },
      },
      pino.destination({ dest: 2, sync: true }),
    );
  const metrics = new ProxyMetrics({ namespace: opts.identity.namespace, tenant: opts.identity.tenant });
  let ready = false;
  const observed = new ObservedEgress(opts.identity, opts.observed);

  // Admin first: liveness answers while the profile compiles; readiness waits for it.
  const admin = opts.admin ? new AdminServer({
        metrics,
        notReadyReason: () => (!ready ? 'profile not loaded' : proxy.isDraining ? 'draining' : undefined),
        observed,
      }) : undefined;
  const adminAddress = admin && opts.admin ? await admin.listen(opts.admin) : undefined;

  const watcher = new ProfileWatcher(opts.profilePath, opts.watcher);
  let first: RuntimeConfig;
  try {
    first = await watcher.start();
  } catch (err) {
    await admin?.close();
    throw err;
  }
  const announce = (cfg: RuntimeConfig): void => {
    metrics.configLoaded(cfg.version, cfg.profileName);
    metrics.engine(cfg.scanner.engine);
    if (cfg.scanner.fallbackReason) {
      logger.warn({ engine: cfg.scanner.engine, reason: cfg.scanner.fallbackReason }, 'scan engine fallback in use');
    }
    const bundle = cfg.scanner.engineInfo().databaseBundle;
    if (bundle && !bundle.accepted) logger.warn({ reason: bundle.reason }, 'shipped scanner databases not used: compiled here instead');
  };
  announce(first);
  logger.info(
    { profile: first.profileName, version: first.version, mode: first.spec.mode, engine: first.scanner.engine, databases: databaseSource(first) },
    'profile loaded',
  );
  watcher.on('reload', (cfg) => {
    announce(cfg);
    logger.info({ profile: cfg.profileName, version: cfg.version, mode: cfg.spec.mode, databases: databaseSource(cfg) }, 'profile reloaded');
  });
  watcher.on('reloadError', (err) => {
    metrics.configReloadFailed();
    logger.error({ code: err.code, issues: err.issues, source: opts.profilePath }, 'profile reload rejected; keeping the previous profile');
  });

  let tenancy: TenancyRuntime;
  try {
    tenancy = await startTenancy(opts.identity, opts.tenancy ?? {}, logger, metrics.registry);
  } catch (err) {
    watcher.stop();
    await admin?.close();
    throw err;
  }
  const tlsOrigination = new TlsOriginator({ maxSockets: opts.upstream?.maxSockets });
  let caSource: InterceptCaSource | undefined;
  let upstreamTrust: UpstreamTrust;
  const leaves = new LeafCache((leaf) => tls.createSecureContext({ cert: leaf.chainPem, key: leaf.keyPem, minVersion: 'TLSv1.2' }), {
    maxEntries: opts.intercept?.leafCacheSize,
  });
  try {
    upstreamTrust = new UpstreamTrust(opts.intercept?.upstreamCaFile);
    if (opts.intercept?.caDir !== undefined) {
      // Loaded only here: a sidecar that does not intercept never carries the
      // X.509 schema classes (1.4 MiB of heap, 30 ms of start-up).
      const { InterceptCaSource } = await import('./tls/intercept-ca-source');
      caSource = new InterceptCaSource(opts.intercept.caDir, {
        pollMs: opts.intercept.caPollMs,
        onReload: (ca) => {
          // Leaves of the old CA are never handed out again; connections already up keep theirs.
          leaves.clear();
          logger.info({ ca: ca.subject, fingerprint: ca.fingerprint, notAfter: ca.notAfter }, 'interception CA reloaded');
        },
        onReloadError: (err) => logger.error({ code: err.code, reason: err.message }, 'interception CA reload rejected; keeping the previous CA'),
      });
      const ca = await caSource.start();
      logger.info({ ca: ca.subject, fingerprint: ca.fingerprint, notAfter: ca.notAfter }, 'interception CA loaded');
    }
  } catch (err) {
    watcher.stop();
    tenancy.stop();
    await admin?.close();
    throw err;
  }
  // The upstream roots' SecureContext costs tens of milliseconds to build: built
  // here and at each reload, not by the first intercepted connection.
  const warmUpstreamTrust = (cfg: RuntimeConfig): void => {
    if (caSource && cfg.spec.tls.intercept === 'Enabled') upstreamTrust.contextFor(cfg);
  };
  warmUpstreamTrust(first);
  watcher.on('reload', warmUpstreamTrust);
  if (first.spec.tls.intercept === 'Enabled' && !caSource) {
    logger.warn('profile enables tls.intercept but the proxy has no --intercept-ca-dir: CONNECT tunnels stay opaque');
  }

  const audit = new AuditLog({
    sink: opts.audit ?? 'stdout',
    identity: opts.identity,
    repeatWindowMs: opts.auditRepeatWindowMs,
    onSuppressed: (n) => metrics.auditEventsSuppressed(n),
  });
  const reporter = new OutcomeReporter(metrics, audit, observed);
  const interceptor = new TlsInterceptor({
    ca: { current: () => caSource?.current() },
    leaves,
    trust: upstreamTrust,
    metrics,
    reporter,
    logger,
    handOff: (socket) => proxy.acceptConnection(socket),
    handOffH2: (socket, origin) => proxy.acceptH2Connection(socket, origin),
    handshakeTimeoutMs: opts.timeouts?.headersMs ?? DEFAULT_TIMEOUTS.headersMs,
    upstreamIdleMs: 30_000,
    upstreamPool: opts.intercept?.upstreamPool,
  });
  const proxy: ProxyServer = new ProxyServer({
    profiles: watcher,
    metrics,
    reporter,
    tenancy: tenancy.guard,
    tlsOrigination,
    interceptor,
    logger,
    timeouts: opts.timeouts,
    upstream: opts.upstream,
    maxHeaderBytes: opts.maxHeaderBytes,
    resolver: cachingResolver(opts.resolver ?? systemResolver, { ttlMs: opts.dnsCacheTtlMs ?? DEFAULT_DNS_CACHE_TTL_MS, maxNames: DNS_CACHE_NAMES }),
  });
  if (adminAddress) proxy.loopGuard.addListenAddress(adminAddress);
  // Everything is loaded: what loading left behind goes now, before the
  // first client can be kept waiting by the collection's pause.
  const releaseQuietMs = opts.releaseMemoryQuietMs ?? DEFAULT_RELEASE_MEMORY_QUIET_MS;
  const releaseUnused = releaseQuietMs > 0 ? unusedMemoryRelease() : undefined;
  if (releaseUnused) {
    const before = process.memoryUsage.rss();
    releaseUnused();
    logger.debug({ rssMiB: { before: mib(before), after: mib(process.memoryUsage.rss()) } }, 'loaded: unused memory returned');
  }
  let proxyAddress: ListenAddress;
  let transparent: TransparentListener | undefined;
  try {
    if (opts.mode === 'transparent') {
      transparent = attachTransparentListener(proxy, { profiles: watcher, reporter, metrics, logger, tenancy: tenancy.guard, interceptor }, opts.transparent);
      proxyAddress = await transparent.listen(opts.listen);
    } else {
      proxyAddress = await proxy.listen(opts.listen);
    }
  } catch (err) {
    watcher.stop();
    tenancy.stop();
    caSource?.stop();
    audit.close();
    await admin?.close();
    throw err;
  }
  ready = true;
  logger.info({ listen: proxyAddress, admin: adminAddress, mode: opts.mode ?? 'explicit' }, 'proxy listening');
  const memoryRelease = releaseMemoryWhenIdle(proxy, releaseQuietMs, releaseUnused, logger);

  let stopping: Promise<void> | undefined;
  return {
    proxyAddress,
    adminAddress,
    metrics,
    observed,
    currentProfile: () => watcher.current(),
    stop(deadlineMs = 10_000) {
      stopping ??= (async () => {
        memoryRelease?.stop();
        await transparent?.close();
        const { cut } = await proxy.drain(deadlineMs);
        transparent?.destroyRelays();
        tlsOrigination.close();
        interceptor.close();
        caSource?.stop();
        tenancy.stop();
        watcher.stop();
        audit.close();
        await admin?.close();
        logger.info({ cut }, 'proxy stopped');
      })();
      return stopping;
    },
  };
}

/** Only where the native binding is: it is what reaches malloc_trim and V8's compaction. */
function releaseMemoryWhenIdle(proxy: ProxyServer, quietMs: number, release: ReleaseUnusedMemory | undefined, logger: pino.Logger): ReleaseMemoryWhenIdle | undefined {
  if (!release) return undefined;
  const watcher = new ReleaseMemoryWhenIdle({
    activity: proxy,
    quietMs,
    release,
    onRelease: (before, after) => logger.debug({ rssMiB: { before: mib(before), after: mib(after) } }, 'traffic stopped: free native memory returned'),
  });
  watcher.start();
  return watcher;
}

function mib(bytes: number): number {
  return Math.round((bytes / 2 ** 20) * 10) / 10;
}

/**
 * Where the scanner's Vectorscan databases came from: the operator's bundle
 * (`shipped`: no pattern compiler ran), or not (`compiled` here, or read
 * from the file cache). Undefined on RE2.
 */
function databaseSource(cfg: RuntimeConfig): 'shipped' | 'compiled' | undefined {
  if (cfg.scanner.engine !== 'vectorscan') return undefined;
  return cfg.scanner.engineInfo().databaseBundle?.accepted ? 'shipped' : 'compiled';
}
