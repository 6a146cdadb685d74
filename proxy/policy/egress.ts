// The egress allowlist: decides, per destination, whether a workload may
// reach it. Runs on every proxied request, so the profile's rules are
// compiled once into maps (host names), label-suffix maps (globs) and
// node:net BlockLists (CIDRs), and decide() is a pure function of the
// destination with no I/O and no DNS.
import { BlockList, SocketAddress, isIP } from 'node:net';
import type { EgressRule, EgressSpec } from '../profile/schema';
import {
  normalizeHostName,
  parseCidr,
  parseHostPattern,
  parsePortSpec,
  stripBrackets,
  type PortRange,
} from './egress-syntax';
import { KdlpError } from '../errors/kdlp-error';

export interface Destination {
  host: string;
  port: number;
  scheme: 'http' | 'https' | 'tcp';
}

export interface EgressDecision {
  allowed: boolean;
  /** Bounded set (see EGRESS_REASONS): safe as a metric label. */
  reason: EgressReason;
  /** The rule that decided, for logs, e.g. `deny[0] host=pastebin.com`. */
  rule?: string;
}

export interface EgressPolicy {
  decide(dest: Destination, opts?: { inspectable: boolean }): EgressDecision;
}

export const EGRESS_REASONS = [
  'allowlist',
  'denylist',
  'default-allow',
  'default-deny',
  'uninspectable-denied',
] as const;
export type EgressReason = (typeof EGRESS_REASONS)[number];

/** A rule that did not parse; profile validation reports these with paths before we get here. */
export class EgressRuleError extends KdlpError {
  readonly code = 'KDLP_EGRESS_RULE_INVALID';
  constructor(readonly rule: string, readonly reason: string) {
    super(`egress rule ${rule}: ${reason}`);
  }
}

interface CompiledRule {
  /** Position in its list; the first matching rule is the one reported. */
  index: number;
  label: string;
  /** Undefined: any port. */
  ports?: PortRange[];
  allowUninspectable: boolean;
}

interface CidrRule extends CompiledRule {
  net: BlockList;
}

interface RuleIndex {
  exact: Map<string, CompiledRule[]>;
  subdomains: Map<string, CompiledRule[]>;
  cidrs: CidrRule[];
  /** Rules with only ports: match every destination on those ports. */
  anyHost: CompiledRule[];
}

type NormalizedHost = { kind: 'name'; name: string } | { kind: 'ip'; address: string; family: 'ipv4' | 'ipv6' };

export function compileEgressPolicy(spec: Partial<EgressSpec> | undefined): EgressPolicy {
  const deny = indexRules(spec?.deny ?? [], 'deny');
  const allow = indexRules(spec?.allow ?? [], 'allow');
  const defaultAllow = (spec?.default ?? 'Allow') === 'Allow';
  // Unset means Allow here; parseProfile resolves the mode-dependent default before compiling.
  const uninspectableAllowed = (spec?.uninspectable ?? 'Allow') === 'Allow';

  return {
    decide(dest: Destination, opts?: { inspectable: boolean }): EgressDecision {
      const host = normalizeDestinationHost(dest.host);
      const denied = firstMatch(deny, host, dest.port);
      if (denied) return { allowed: false, reason: 'denylist', rule: denied.label };

      const inspectable = opts?.inspectable !== false;
      const allowed = firstMatch(allow, host, dest.port, !inspectable && !uninspectableAllowed);
      if (!allowed && !defaultAllow) return { allowed: false, reason: 'default-deny' };

      if (!inspectable && !uninspectableAllowed && !allowed?.allowUninspectable) {
        return { allowed: false, reason: 'uninspectable-denied', rule: allowed?.label };
      }
      return allowed ? { allowed: true, reason: 'allowlist', rule: allowed.label } : { allowed: true, reason: 'default-allow' };
    },
  };
}

function indexRules(rules: readonly EgressRule[], list: 'allow' | 'deny'): RuleIndex {
  const index: RuleIndex = { exact: new Map(), subdomains: new Map(), cidrs: [], anyHost: [] };
  rules.forEach((rule, i) => {
    const where = `${list}[${i}]`;
    const ports = rule.ports?.map((p) => {
      const parsed = parsePortSpec(p);
      if (!parsed.ok) throw new EgressRuleError(where, `port ${JSON.stringify(p)}: ${parsed.error}`);
      return parsed.value;
    });
    const base = {
      index: i,
      label: ruleLabel(where, rule),
      ports,
      allowUninspectable: list === 'allow' && rule.allowUninspectable === true,
    };
    if (rule.host !== undefined && rule.cidr !== undefined) {
      throw new EgressRuleError(where, 'host and cidr are mutually exclusive');
    }
    if (rule.host !== undefined) {
      const parsed = parseHostPattern(rule.host);
      if (!parsed.ok) throw new EgressRuleError(where, parsed.error);
      const p = parsed.value;
      const map = p.kind === 'exact' ? index.exact : index.subdomains;
      const key = p.kind === 'exact' ? p.name : p.suffix;
      map.set(key, [...(map.get(key) ?? []), base]);
    } else if (rule.cidr !== undefined) {
      const parsed = parseCidr(rule.cidr);
      if (!parsed.ok) throw new EgressRuleError(where, parsed.error);
      const net = new BlockList();
      net.addSubnet(parsed.value.address, parsed.value.prefix, parsed.value.family);
      index.cidrs.push({ ...base, net });
    } else if (ports !== undefined) {
      index.anyHost.push(base);
    } else {
      throw new EgressRuleError(where, 'a rule needs at least one of host, cidr or ports');
    }
  });
  return index;
}

/**
 * The lowest-index rule matching host and port. When `preferUninspectable`,
 * a matching rule that allows uninspectable traffic wins over earlier ones,
 * so an exception further down the list is not hidden by a plain allow.
 */
function firstMatch(
  index: RuleIndex,
  host: NormalizedHost,
  port: number,
  preferUninspectable = false,
): CompiledRule | undefined {
  let best: CompiledRule | undefined;
  const consider = (rule: CompiledRule) => {
    if (!portMatches(rule.ports, port)) return;
    if (!best) {
      best = rule;
      return;
    }
    const better =
      preferUninspectable && rule.allowUninspectable !== best.allowUninspectable
        ? rule.allowUninspectable
        : rule.index < best.index;
    if (better) best = rule;
  };

  if (host.kind === 'name') {
    index.exact.get(host.name)?.forEach(consider);
    if (index.subdomains.size > 0) {
      // Walk the name's proper suffixes: a.b.example.com -> b.example.com, example.com, com.
      let dot = host.name.indexOf('.');
      while (dot !== -1) {
        index.subdomains.get(host.name.slice(dot + 1))?.forEach(consider);
        dot = host.name.indexOf('.', dot + 1);
      }
    }
  } else if (index.cidrs.length > 0) {
    const address = socketAddressOf(host.address, host.family);
    for (const rule of index.cidrs) {
      if (address !== undefined && rule.net.check(address)) consider(rule);
    }
  }
  index.anyHost.forEach(consider);
  return best;
}

// BlockList.check(string) builds a native SocketAddress on every call
// (~3.5 us each here, once per CIDR rule, on every request). Workloads talk
// to few addresses, so each is parsed once; the map is cleared when full, so
// a pod cycling through addresses costs time, not memory.
const SOCKET_ADDRESS_CACHE_LIMIT = 1024;
const socketAddresses = new Map<string, SocketAddress | null>();

/** Undefined when node:net refuses the address (BlockList.check then answers false too). */
function socketAddressOf(address: string, family: 'ipv4' | 'ipv6'): SocketAddress | undefined {
  let parsed = socketAddresses.get(address);
  if (parsed === undefined) {
    try {
      parsed = new SocketAddress({ address, family });
    } catch {
      parsed = null;
    }
    if (socketAddresses.size >= SOCKET_ADDRESS_CACHE_LIMIT) socketAddresses.clear();
    socketAddresses.set(address, parsed);
  }
  return parsed ?? undefined;
}

function portMatches(ports: PortRange[] | undefined, port: number): boolean {
  if (ports === undefined) return true;
  for (const r of ports) if (port >= r.from && port <= r.to) return true;
  return false;
}

function normalizeDestinationHost(raw: string): NormalizedHost {
  const bare = stripBrackets(raw.trim());
  const family = isIP(bare);
  if (family !== 0) return { kind: 'ip', address: bare, family: family === 4 ? 'ipv4' : 'ipv6' };
  const name = normalizeHostName(bare);
  // Clients resolve numeric shorthands ("2130706433", "0x7f.1", "127.1") to
  // IPv4 addresses; canonicalise them the way a URL parser does so that CIDR
  // denies cannot be side-stepped by spelling.
  if (/^[0-9a-fx.]+$/.test(name)) {
    const canonical = canonicalIPv4(name);
    if (canonical !== undefined) return { kind: 'ip', address: canonical, family: 'ipv4' };
  }
  return { kind: 'name', name };
}

function canonicalIPv4(name: string): string | undefined {
  try {
    const hostname = new URL(`http://${name}/`).hostname;
    return isIP(hostname) === 4 ? hostname : undefined;
  } catch {
    return undefined;
  }
}

function ruleLabel(where: string, rule: EgressRule): string {
  const parts = [where];
  if (rule.host !== undefined) parts.push(`host=${rule.host}`);
  if (rule.cidr !== undefined) parts.push(`cidr=${rule.cidr}`);
  if (rule.ports !== undefined) parts.push(`ports=${rule.ports.join(',')}`);
  return parts.join(' ');
}
