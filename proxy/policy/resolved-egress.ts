// Egress for a destination known by a name and the addresses it resolved to
// (explicit mode after the one DNS lookup, or a captured connection's Host/SNI
// and original address). The name is the client's word and DNS is the
// resolver's, so every identity is judged: a deny of the name or of ANY
// address denies the whole destination (a name that also resolves to the
// metadata address is refused even if its first address is harmless), and
// the address to connect to is one the decision actually allowed.
import type { Destination, EgressDecision, EgressPolicy } from './egress';

export interface ResolvedDestination {
  /** The name the client used; undefined or equal to an address when it gave a literal. */
  name?: string;
  /** Every address the name resolved to (or the one address connected to), in resolver order. */
  addresses: readonly string[];
  port: number;
  scheme: Destination['scheme'];
}

export interface ResolvedEgressDecision {
  decision: EgressDecision;
  /** The address the decision was made for: the one to connect to, and nothing else. */
  address: string;
}

export function decideResolvedEgress(policy: EgressPolicy, dest: ResolvedDestination, inspectable: boolean): ResolvedEgressDecision {
  if (dest.addresses.length === 0) throw new TypeError('decideResolvedEgress: a destination needs at least one address');
  const opts = { inspectable };
  const judge = (host: string): EgressDecision => policy.decide({ host, port: dest.port, scheme: dest.scheme }, opts);
  const byName = dest.name === undefined || dest.addresses.includes(dest.name) ? undefined : judge(dest.name);
  const byAddress = dest.addresses.map((address) => ({ address, decision: judge(address) }));

  // Per address: an allow of the name or of the address allows (a name
  // allowlist works with any address, a CIDR allowlist with any name), and
  // an explicit allowlist entry is reported in preference to a default.
  const candidates = byAddress.map(({ address, decision }) => {
    const allowed = [byName, decision].filter((d): d is EgressDecision => d !== undefined && d.allowed);
    const denied = [decision, byName].find((d) => d?.reason === 'denylist');
    return { address, denied: denied !== undefined, decision: allowed.find((d) => d.reason === 'allowlist') ?? allowed[0] ?? byName ?? decision };
  });
  // The connection goes to an address that would be allowed on its own (what
  // Monitor mode uses when it does not enforce a deny elsewhere in the answer).
  const target = candidates.find((c) => c.decision.allowed && !c.denied) ?? candidates[0]!;
  const deny = [...byAddress.map((a) => a.decision), byName].find((d) => d?.reason === 'denylist');
  return { decision: deny ?? target.decision, address: target.address };
}
