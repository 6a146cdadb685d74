// Tenant isolation: may this workload reach that in-cluster destination?
// A destination is looked at through every identity it has (the host name
// the client used and, in transparent mode, the IP it actually connected
// to); each that lands in another tenant's namespace denies. Names and
// addresses the cluster does not know stay outside this check: the egress
// policy governs them.
//
// Unknown means denied: an in-cluster namespace or address whose tenant the
// directory does not know is refused while denyCrossTenant is on. The
// operator gives each namespace a copy that names only its own tenant and the
// shared namespaces, so this covers another tenant, a namespace that is not
// opted in (infrastructure nobody declared shared) and one created since the
// last rendering alike. The profile's sharedNamespaces and exceptions open it.
import { isIP } from 'node:net';
import { stripBrackets } from '../policy/egress-syntax';
import { clusterNameOf } from './cluster-names';
import { normalizeAddress, type TenantDirectory } from './directory';

export interface TenancyIdentity {
  namespace: string;
  tenant: string;
}

export interface TenancyPolicy {
  /** Always set once the profile is loaded (runtime-config.ts resolves it from the mode); unset reads as off. */
  denyCrossTenant?: boolean;
  exceptions: ReadonlyArray<{ tenant?: string; namespace?: string }>;
}

/** Bounded set: these are audit reasons, and `cross-tenant`/`unknown-tenant` are the denials. */
export type TenancyReason =
  | 'disabled'
  | 'outside-cluster'
  | 'same-namespace'
  | 'same-tenant'
  | 'shared-namespace'
  | 'exception'
  | 'cross-tenant'
  | 'unknown-tenant';

export interface TenancyDecision {
  allowed: boolean;
  reason: TenancyReason;
  /** The namespace the deciding identity points into. */
  namespace?: string;
  tenant?: string;
  /** Which identity of the destination decided: the name or the address. */
  via?: 'name' | 'address';
  /** Human-readable, for the audit reason; names namespaces and tenants only. */
  detail: string;
}

export interface TenancyTarget {
  /** Host as the client named it (Host header, SNI, absolute URL, CONNECT target); may be an IP literal. */
  host?: string;
  /** The address the connection really goes to, when known (transparent mode's original destination). */
  address?: string;
}

export interface TenancyGuardOptions {
  identity: TenancyIdentity;
  /** Cluster domains from flags/env; the directory may add more. */
  clusterDomains: readonly string[];
  /** The current directory (hot-reloaded); called once per decision. */
  directory: () => TenantDirectory;
}

export class TenancyGuard {
  constructor(private readonly opts: TenancyGuardOptions) {}

  get identity(): TenancyIdentity {
    return this.opts.identity;
  }

  decide(target: TenancyTarget, policy: TenancyPolicy): TenancyDecision {
    if (!policy.denyCrossTenant) return { allowed: true, reason: 'disabled', detail: 'tenant isolation off' };
    const directory = this.opts.directory();
    const decisions: TenancyDecision[] = [];

    const hostAddress = target.host !== undefined ? addressLiteral(target.host) : undefined;
    if (target.host !== undefined && hostAddress === undefined) {
      const cluster = clusterNameOf(target.host, {
        clusterDomains: [...this.opts.clusterDomains, ...directory.clusterDomains],
        ownNamespace: this.opts.identity.namespace,
        isNamespace: (ns) => directory.namespace(ns) !== undefined,
      });
      if (cluster?.kind === 'namespace') decisions.push(this.judgeNamespace(cluster.namespace, directory, policy, 'name'));
      else if (cluster?.kind === 'cluster-unknown') decisions.push(unknown('name', 'in-cluster name with no namespace'));
    }
    for (const address of new Set([hostAddress, target.address].filter((a): a is string => a !== undefined))) {
      const owner = directory.ownerOf(address);
      if (owner === 'unknown') decisions.push(unknown('address', `in-cluster address outside tenant ${this.opts.identity.tenant}${OPEN_HINT}`));
      else if (owner !== undefined) decisions.push(this.judgeNamespace(owner.namespace, directory, policy, 'address', owner.entry));
    }

    const denied = decisions.find((d) => !d.allowed);
    if (denied) return denied;
    return decisions[0] ?? { allowed: true, reason: 'outside-cluster', detail: 'not an in-cluster destination' };
  }

  private judgeNamespace(
    namespace: string,
    directory: TenantDirectory,
    policy: TenancyPolicy,
    via: 'name' | 'address',
    entry?: string,
  ): TenancyDecision {
    const own = this.opts.identity;
    const info = directory.namespace(namespace);
    const tenant = namespace === own.namespace ? own.tenant : info?.tenant;
    const where = `namespace ${namespace}${entry ? ` (${entry})` : ''}`;
    const base = { namespace, tenant, via };
    if (namespace === own.namespace) return { ...base, allowed: true, reason: 'same-namespace', detail: where };
    if (policy.exceptions.some((e) => e.namespace === namespace || (tenant !== undefined && e.tenant === tenant))) {
      return { ...base, allowed: true, reason: 'exception', detail: `${where}: profile exception` };
    }
    if (info?.shared) return { ...base, allowed: true, reason: 'shared-namespace', detail: `${where} is shared` };
    if (tenant === undefined) {
      return { ...base, allowed: false, reason: 'unknown-tenant', detail: `${where} is not tenant ${own.tenant}'s${OPEN_HINT}` };
    }
    if (tenant === own.tenant) return { ...base, allowed: true, reason: 'same-tenant', detail: `${where}, tenant ${tenant}` };
    return { ...base, allowed: false, reason: 'cross-tenant', detail: `${where} belongs to tenant ${tenant}, not ${own.tenant}` };
  }
}

/** Where the fix is, in every unknown-tenant denial: audit readers are the ones who will change the profile. */
const OPEN_HINT = ' and not shared (tenancy.sharedNamespaces or tenancy.exceptions open it)';

function unknown(via: 'name' | 'address', detail: string): TenancyDecision {
  return { allowed: false, reason: 'unknown-tenant', via, detail };
}

/** The host as an IP address when it is one, including numeric shorthands clients accept ("167772161", "10.1"). */
function addressLiteral(host: string): string | undefined {
  const bare = stripBrackets(host.trim());
  if (isIP(bare) !== 0) return normalizeAddress(bare)?.address;
  if (!/^[0-9a-fx.]+$/i.test(bare) || !/^[0-9]/.test(bare)) return undefined;
  try {
    const h = new URL(`http://${bare}/`).hostname;
    return isIP(h) === 4 ? h : undefined;
  } catch {
    return undefined;
  }
}
