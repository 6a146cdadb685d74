// An explicit-mode destination, pinned: its name resolved once to every
// address, egress and tenancy judged on the name and on each address, and
// the one address the decision allowed chosen as the only place the
// connection may go. HTTP and CONNECT exchanges both call this, after the
// name-only checks, so a denied or secret-bearing name is never looked up.
import type { Destination } from '../http/destination';
import { resolveAll, type NameResolver } from '../http/name-resolver';
import type { EgressDecision } from '../policy/egress';
import { decideResolvedEgress } from '../policy/resolved-egress';
import type { RuntimeConfig } from '../profile';
import type { TenancyDecision, TenancyGuard } from '../tenancy/tenancy-guard';

export interface PinningDeps {
  resolver: NameResolver;
  resolveTimeoutMs: number;
  tenancy?: TenancyGuard;
}

export interface PinnedDestination {
  /** Connect here and nowhere else. */
  address: string;
  /** Everything the name resolved to (audit notes, tests). */
  addresses: readonly string[];
  egress: EgressDecision;
  /** Undefined without tenant isolation; a denial when any address is another tenant's. */
  tenancy?: TenancyDecision;
}

/** Throws UpstreamError when the name does not resolve. */
export async function pinDestination(cfg: RuntimeConfig, dest: Destination, deps: PinningDeps, inspectable: boolean): Promise<PinnedDestination> {
  const addresses = await resolveAll(dest.host, deps.resolver, deps.resolveTimeoutMs);
  const { decision, address } = decideResolvedEgress(cfg.egress, { name: dest.host, addresses, port: dest.port, scheme: dest.scheme }, inspectable);
  let tenancy: TenancyDecision | undefined;
  if (deps.tenancy) {
    const guard = deps.tenancy;
    const each = addresses.map((a) => guard.decide({ host: dest.host, address: a }, cfg.spec.tenancy));
    tenancy = each.find((d) => !d.allowed) ?? each[addresses.indexOf(address)];
  }
  return { address, addresses, egress: decision, tenancy };
}

/** `egress denylist (deny[0] cidr=…)`, the form audit reasons use. */
export function describeEgress(egress: EgressDecision): string {
  return `egress ${egress.reason}${egress.rule ? ` (${egress.rule})` : ''}`;
}
