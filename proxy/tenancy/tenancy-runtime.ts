// Tenant isolation as the running proxy uses it: the directory file loaded
// and followed (hot reload, last good kept), the cluster domains, and the
// guard every exchange asks. Without a directory file the guard still knows
// the proxy's own namespace, so denyCrossTenant fails closed for every other
// in-cluster namespace.
import { Counter, Gauge, type Registry } from '../metrics/prom-client-core';
import type pino from 'pino';
import { parseClusterDomains } from './cluster-names';
import { emptyTenantDirectory, type TenantDirectory } from './directory';
import { TenantDirectoryWatcher, type DirectoryWatcherOptions } from './directory-watcher';
import { TenancyGuard, type TenancyIdentity } from './tenancy-guard';

export interface TenancyRuntimeOptions {
  /** tenants.yaml from the operator; optional. */
  directoryPath?: string;
  /** --cluster-domain values (comma lists allowed); default cluster.local. */
  clusterDomains?: readonly string[];
  watcher?: DirectoryWatcherOptions;
}

export interface TenancyRuntime {
  guard: TenancyGuard;
  directory(): TenantDirectory;
  stop(): void;
}

/** Throws TenantDirectoryError when the directory file cannot be loaded at startup, TenancyConfigError for bad domains. */
export async function startTenancy(
  identity: TenancyIdentity,
  opts: TenancyRuntimeOptions,
  logger: pino.Logger,
  registry?: Registry,
): Promise<TenancyRuntime> {
  const clusterDomains = parseClusterDomains(opts.clusterDomains ?? []);
  const failures = registry
    ? new Counter({
        name: 'kubedlp_tenant_directory_reload_failures_total',
        help: 'Tenant directory reloads rejected as invalid or unreadable; the previous directory stays in force.',
        registers: [registry],
      })
    : undefined;
  const entries = registry
    ? new Gauge({
        name: 'kubedlp_tenant_directory_info',
        help: "The tenant directory in force: 1 for its operator version (or 'none').",
        labelNames: ['version'],
        registers: [registry],
      })
    : undefined;

  if (opts.directoryPath === undefined) {
    const empty = emptyTenantDirectory();
    entries?.set({ version: 'none' }, 1);
    return { guard: new TenancyGuard({ identity, clusterDomains, directory: () => empty }), directory: () => empty, stop: () => undefined };
  }

  const watcher = new TenantDirectoryWatcher(opts.directoryPath, opts.watcher);
  const first = await watcher.start();
  const announce = (dir: TenantDirectory, previous?: TenantDirectory): void => {
    if (previous) entries?.remove({ version: previous.version ?? previous.contentVersion });
    entries?.set({ version: dir.version ?? dir.contentVersion }, 1);
  };
  announce(first);
  logger.info({ source: watcher.path, version: first.version, clusterDomains }, 'tenant directory loaded');
  watcher.on('reload', (dir, previous) => {
    announce(dir, previous);
    logger.info({ source: watcher.path, version: dir.version }, 'tenant directory reloaded');
  });
  watcher.on('reloadError', (err) => {
    failures?.inc();
    logger.error({ code: err.code, issues: err.issues, source: watcher.path }, 'tenant directory reload rejected; keeping the previous one');
  });
  return {
    guard: new TenancyGuard({ identity, clusterDomains, directory: () => watcher.current() }),
    directory: () => watcher.current(),
    stop: () => watcher.stop(),
  };
}
