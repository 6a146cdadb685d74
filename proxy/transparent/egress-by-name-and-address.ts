// Egress decisions for captured traffic, where a destination has two
// identities: the name the client claims (Host header, SNI) and the address
// it actually connected to. The claimed name is the client's word, so the
// address is always checked too: a deny of either denies (a CIDR deny cannot
// be dodged with a harmless Host header), and an allow of either allows
// (a name allowlist works for captured traffic as it does for explicit).
import type { Destination, EgressDecision, EgressPolicy } from '../policy/egress';

export interface CapturedDestination {
  /** Host header or SNI, when the client gave one. */
  name?: string;
  /** Original destination address (SO_ORIGINAL_DST). */
  address: string;
  port: number;
  scheme: Destination['scheme'];
}

export function decideCapturedEgress(policy: EgressPolicy, dest: CapturedDestination, inspectable: boolean): EgressDecision {
  const opts = { inspectable };
  const byAddress = policy.decide({ host: dest.address, port: dest.port, scheme: dest.scheme }, opts);
  if (dest.name === undefined || dest.name === dest.address) return byAddress;
  const byName = policy.decide({ host: dest.name, port: dest.port, scheme: dest.scheme }, opts);
  for (const d of [byAddress, byName]) if (d.reason === 'denylist') return d;
  const allowed = [byName, byAddress].filter((d) => d.allowed);
  return allowed.find((d) => d.reason === 'allowlist') ?? allowed[0] ?? byName;
}
