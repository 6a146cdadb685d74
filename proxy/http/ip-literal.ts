// One spelling per IP address. Clients write the same IPv6 address many ways
// (`2001:DB8:0:0::1`, `::ffff:10.0.0.1`, `::ffff:a00:1`); every place that
// compares, keys or encodes an address (tenant lookups, CONNECT hosts, IP
// SANs in minted leaves) uses these, so no spelling is treated as another
// address.
import { isIP } from 'node:net';

/**
 * An IPv6 literal in RFC 5952 form (lower case, longest zero run
 * compressed, hex groups only: an IPv4 tail becomes two groups), as the
 * WHATWG URL serializer writes it; undefined when `address` is not IPv6 or
 * carries a zone index (`fe80::1%eth0`, which names an interface, not a
 * host).
 */
export function canonicalIpv6(address: string): string | undefined {
  if (isIP(address) !== 6 || address.includes('%')) return undefined;
  return new URL(`http://[${address}]/`).hostname.slice(1, -1);
}

const V4_MAPPED = /^::ffff:([0-9a-f]{1,4}):([0-9a-f]{1,4})$/;

/** The IPv4 address an IPv4-mapped IPv6 address (`::ffff:0:0/96`, in canonical form) stands for, else undefined. */
function ipv4OfMapped(canonical: string): string | undefined {
  const m = V4_MAPPED.exec(canonical);
  if (!m) return undefined;
  const high = Number.parseInt(m[1]!, 16);
  const low = Number.parseInt(m[2]!, 16);
  return `${high >> 8}.${high & 0xff}.${low >> 8}.${low & 0xff}`;
}

/**
 * An IP literal as the address it reaches: IPv4 as written, an IPv4-mapped
 * IPv6 address (either spelling) as that IPv4 address, other IPv6 in its one
 * spelling; undefined for anything that is not an IP literal. What tenant
 * lookups, BlockLists and the loop guard compare.
 */
export function reachedAddress(ip: string): { address: string; family: 'ipv4' | 'ipv6' } | undefined {
  if (isIP(ip) === 4) return { address: ip, family: 'ipv4' };
  const v6 = canonicalIpv6(ip);
  if (v6 === undefined) return undefined;
  const v4 = ipv4OfMapped(v6);
  return v4 === undefined ? { address: v6, family: 'ipv6' } : { address: v4, family: 'ipv4' };
}
