// Tenant isolation for the sidecar: the operator's tenant directory (format
// and hot reload), in-cluster DNS names, and the guard that decides.
// TenantDirectorySchema (TypeBox) is imported from './directory-schema' where
// needed: re-exported here it would load TypeBox into every sidecar.
export {
  TENANT_DIRECTORY_KIND,
  type TenantDirectorySpec,
  parseTenantDirectory,
  emptyTenantDirectory,
  normalizeAddress,
  type TenantDirectory,
  type NamespaceInfo,
  type AddressOwner,
} from './directory';
export { TenantDirectoryWatcher, type DirectoryWatcherOptions } from './directory-watcher';
export { clusterNameOf, parseClusterDomains, DEFAULT_CLUSTER_DOMAIN, type ClusterName } from './cluster-names';
export {
  TenancyGuard,
  type TenancyDecision,
  type TenancyGuardOptions,
  type TenancyIdentity,
  type TenancyPolicy,
  type TenancyReason,
  type TenancyTarget,
} from './tenancy-guard';
export { TenantDirectoryError, TenancyConfigError, type DirectoryIssue } from './errors';
