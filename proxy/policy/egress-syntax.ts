// Parsing of the three things an egress rule names: host patterns, CIDRs and
// ports. Shared by profile validation (which reports every bad entry with its
// path) and the policy compiler (which turns good entries into fast checks),
// so both agree on what is valid.
import { isIP } from 'node:net';
import { domainToASCII } from 'node:url';
import { canonicalIpv6 } from '../http/ip-literal';

export type HostPattern =
  /** Matches exactly this (lowercase, no trailing dot) name. */
  | { kind: 'exact'; name: string }
  /** `*.suffix`: matches names strictly below `suffix`. */
  | { kind: 'subdomains'; suffix: string };

export interface Cidr {
  family: 'ipv4' | 'ipv6';
  address: string;
  prefix: number;
}

export interface PortRange {
  from: number;
  to: number;
}

export type Parsed<T> = { ok: true; value: T } | { ok: false; error: string };

const LABEL = /^[a-z0-9_]([a-z0-9_-]{0,61}[a-z0-9_])?$/;

/**
 * Normalises a host name the way both rules and destinations are compared:
 * lowercase, one trailing dot dropped, IDNs in their ASCII (punycode) form,
 * IPv6 literals in their one spelling (ip-literal.ts).
 */
export function normalizeHostName(host: string): string {
  // An IPv6 literal in its one spelling, as the request-target parser writes it.
  if (host.includes(':')) return canonicalIpv6(host) ?? host.toLowerCase();
  let h = host.toLowerCase();
  if (h.endsWith('.')) h = h.slice(0, -1);
  // Only non-ASCII names need IDNA; the common case stays allocation-free.
  if (/[^\x00-\x7f]/.test(h)) {
    const ascii = domainToASCII(h);
    if (ascii !== '') h = ascii;
  }
  return h;
}

export function parseHostPattern(raw: string): Parsed<HostPattern> {
  if (raw.trim() !== raw || raw === '') return { ok: false, error: 'must be a non-empty host name without spaces' };
  if (raw === '*') return { ok: false, error: '"*" alone is not a host pattern; use egress.default for "every host"' };
  const wildcard = raw.startsWith('*.');
  const name = normalizeHostName(wildcard ? raw.slice(2) : raw);
  if (name.includes('*')) {
    return { ok: false, error: 'a wildcard is only allowed as the whole first label ("*.example.com")' };
  }
  if (isIP(stripBrackets(name)) !== 0) {
    return { ok: false, error: 'IP addresses go in "cidr" (e.g. cidr: 10.1.2.3/32), not "host"' };
  }
  if (name.length > 253) return { ok: false, error: 'host name is longer than 253 characters' };
  const labels = name.split('.');
  if (labels.some((l) => !LABEL.test(l))) {
    return { ok: false, error: 'not a valid host name (labels of letters, digits, "-" or "_", 1-63 characters)' };
  }
  if (wildcard && labels.length < 2) {
    return { ok: false, error: 'a wildcard needs a domain of at least two labels ("*.example.com", not "*.com")' };
  }
  return { ok: true, value: wildcard ? { kind: 'subdomains', suffix: name } : { kind: 'exact', name } };
}

/** Accepts `addr/prefix` or a bare address (a single host). */
export function parseCidr(raw: string): Parsed<Cidr> {
  const slash = raw.indexOf('/');
  const address = slash === -1 ? raw : raw.slice(0, slash);
  const family = isIP(address);
  if (family === 0) return { ok: false, error: 'not an IPv4 or IPv6 address or network (e.g. 10.0.0.0/8, fd00::/8)' };
  const max = family === 4 ? 32 : 128;
  let prefix = max;
  if (slash !== -1) {
    const p = raw.slice(slash + 1);
    if (!/^\d{1,3}$/.test(p) || Number(p) > max) {
      return { ok: false, error: `prefix length must be an integer from 0 to ${max}` };
    }
    prefix = Number(p);
  }
  return { ok: true, value: { family: family === 4 ? 'ipv4' : 'ipv6', address, prefix } };
}

/** A port (443, "443") or an inclusive range ("8000-8080"). */
export function parsePortSpec(raw: unknown): Parsed<PortRange> {
  const bad = { ok: false as const, error: 'must be a port 1-65535 or a range "from-to" such as "8000-8080"' };
  if (typeof raw === 'number') {
    return Number.isInteger(raw) && raw >= 1 && raw <= 65535 ? { ok: true, value: { from: raw, to: raw } } : bad;
  }
  if (typeof raw !== 'string') return bad;
  const m = /^\s*(\d{1,5})\s*(?:-\s*(\d{1,5})\s*)?$/.exec(raw);
  if (!m) return bad;
  const from = Number(m[1]);
  const to = m[2] === undefined ? from : Number(m[2]);
  if (from < 1 || to > 65535 || from > 65535) return bad;
  if (from > to) return { ok: false, error: `range start ${from} is greater than its end ${to}` };
  return { ok: true, value: { from, to } };
}

export function stripBrackets(host: string): string {
  return host.startsWith('[') && host.endsWith(']') ? host.slice(1, -1) : host;
}
