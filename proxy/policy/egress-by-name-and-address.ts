// Egress decisions for captured traffic, where a destination has two
// identities: the name the client claims (Host header, SNI) and the address
// it actually connected to. The same rule as for a resolved name in explicit
// mode (proxy/policy/resolved-egress.ts) with exactly one address: a deny of
// either denies, an allow of either allows.
import type { Destination, EgressDecision, EgressPolicy } from './egress';
import { decideResolvedEgress } from './resolved-egress';

export interface CapturedDestination {
  /** Host header or SNI, when the client gave one. */
  name?: string;
  /** Original destination address (SO_ORIGINAL_DST). */
  address: string;
  port: number;
  scheme: Destination['scheme'];
}

export function decideCapturedEgress(policy: EgressPolicy, dest: CapturedDestination, inspectable: boolean): EgressDecision {
  return decideResolvedEgress(policy, { name: dest.name, addresses: [dest.address], port: dest.port, scheme: dest.scheme }, inspectable).decision;
}
