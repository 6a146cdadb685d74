// The netfilter rules that send a pod's TCP egress to the proxy, as data.
// `kube-dlp init-iptables` applies them (or prints them with --dry-run);
// keeping the generation pure lets the exact rule list be unit-tested and
// reviewed without a kernel.
//
// Shape (as Istio's init container does, with our own chains):
//   nat OUTPUT      -p tcp -j KUBEDLP_OUTPUT       (inserted first, once)
//   KUBEDLP_OUTPUT  loopback, the proxy's uid/gid, excluded CIDRs and ports
//                   RETURN; everything else REDIRECT --to-ports <proxy port>
//   nat PREROUTING  -p tcp -j KUBEDLP_INBOUND      (only with inbound ports)
//
// The chains' contents are written with `iptables-restore --noflush`, which
// replaces a chain atomically: re-running with other options never leaves a
// moment where the chain is empty and egress bypasses the proxy.
import { parseCidr, parsePortSpec, type Cidr, type PortRange } from '../policy/egress-syntax';
import { CaptureOptionsError } from './errors';

export type IpFamily = 'ipv4' | 'ipv6';

export interface CaptureOptions {
  /** Port the proxy accepts redirected connections on. */
  proxyPort: number;
  /** The proxy's uid: its own upstream connections are never redirected. */
  proxyUid: number;
  /** Also exempt this gid (for proxies run with a dedicated group). */
  proxyGid?: number;
  /** The proxy's admin port: never captured inbound, so kubelet probes reach it directly. */
  adminPort?: number;
  /** Destination ports (or ranges) left uncaptured, e.g. a database the proxy cannot help with. */
  excludePorts?: PortRange[];
  /** Destination networks left uncaptured (either family; each goes to its table). */
  excludeCidrs?: Cidr[];
  /** Inbound ports whose connections also go through the proxy; `all` for every port. Default none. */
  inboundPorts?: PortRange[] | 'all';
  /** Inbound ports never captured even with `inboundPorts: all` (the admin port always is). */
  excludeInboundPorts?: PortRange[];
  /** Chain name prefix. Default KUBEDLP. */
  chainPrefix?: string;
}

/** A jump from a built-in chain into ours, ensured to exist exactly once. */
export interface HookRule {
  table: 'nat';
  chain: 'OUTPUT' | 'PREROUTING';
  /** Match and target, without -A/-I/-C and chain: e.g. ['-p', 'tcp', '-j', 'KUBEDLP_OUTPUT']. */
  rule: string[];
}

export interface CapturePlan {
  family: IpFamily;
  /** Chains this plan owns (created, flushed, removed by us only). */
  chains: string[];
  /** Input for `iptables-restore --noflush`: declares (and so flushes) our chains, then fills them. */
  restoreInput: string;
  hooks: HookRule[];
  /** What an earlier run with other options may have left and this plan does not want (e.g. inbound capture). */
  obsolete: { hooks: HookRule[]; chains: string[] };
}

const LOOPBACK: Record<IpFamily, string> = { ipv4: '127.0.0.0/8', ipv6: '::1/128' };
const CHAIN_NAME = /^[A-Z][A-Z0-9_]{0,19}$/;

export function chainNames(prefix = 'KUBEDLP'): { output: string; inbound: string } {
  if (!CHAIN_NAME.test(prefix)) throw new CaptureOptionsError('chainPrefix', 'must be upper-case letters, digits or "_", at most 20 characters');
  return { output: `${prefix}_OUTPUT`, inbound: `${prefix}_INBOUND` };
}

export function buildCapturePlan(opts: CaptureOptions, family: IpFamily): CapturePlan {
  validate(opts);
  const names = chainNames(opts.chainPrefix);
  const out = names.output;
  const lines: string[] = ['*nat', `:${out} - [0:0]`];
  const add = (chain: string, ...rule: string[]) => lines.push(['-A', chain, ...rule].join(' '));

  // Traffic that stays inside the pod (localhost, the pod's own IP, which routes via lo) is not egress.
  add(out, '-o', 'lo', '-j', 'RETURN');
  add(out, '-d', LOOPBACK[family], '-j', 'RETURN');
  // The proxy's own upstream connections: redirecting them would loop back into the proxy.
  add(out, '-m', 'owner', '--uid-owner', String(opts.proxyUid), '-j', 'RETURN');
  if (opts.proxyGid !== undefined) add(out, '-m', 'owner', '--gid-owner', String(opts.proxyGid), '-j', 'RETURN');
  for (const cidr of opts.excludeCidrs ?? []) {
    if (cidr.family === family) add(out, '-d', `${cidr.address}/${cidr.prefix}`, '-j', 'RETURN');
  }
  for (const range of opts.excludePorts ?? []) add(out, '-p', 'tcp', '--dport', portArg(range), '-j', 'RETURN');
  add(out, '-p', 'tcp', '-j', 'REDIRECT', '--to-ports', String(opts.proxyPort));

  const chains = [out];
  const hooks: HookRule[] = [{ table: 'nat', chain: 'OUTPUT', rule: ['-p', 'tcp', '-j', out] }];

  const inbound = opts.inboundPorts ?? [];
  const inboundHook: HookRule = { table: 'nat', chain: 'PREROUTING', rule: ['-p', 'tcp', '-j', names.inbound] };
  const obsolete: CapturePlan['obsolete'] = { hooks: [], chains: [] };
  if (inbound !== 'all' && inbound.length === 0) {
    obsolete.hooks.push(inboundHook);
    obsolete.chains.push(names.inbound);
  } else {
    const inb = names.inbound;
    lines.splice(2, 0, `:${inb} - [0:0]`);
    // Probes and scrapes of the proxy itself, and connections straight to the proxy port, are never redirected.
    const keep: PortRange[] = [
      ...(opts.adminPort !== undefined ? [{ from: opts.adminPort, to: opts.adminPort }] : []),
      { from: opts.proxyPort, to: opts.proxyPort },
      ...(opts.excludeInboundPorts ?? []),
    ];
    for (const range of keep) add(inb, '-p', 'tcp', '--dport', portArg(range), '-j', 'RETURN');
    if (inbound === 'all') add(inb, '-p', 'tcp', '-j', 'REDIRECT', '--to-ports', String(opts.proxyPort));
    else for (const range of inbound) add(inb, '-p', 'tcp', '--dport', portArg(range), '-j', 'REDIRECT', '--to-ports', String(opts.proxyPort));
    chains.push(inb);
    hooks.push(inboundHook);
  }
  lines.push('COMMIT', '');
  return { family, chains, restoreInput: lines.join('\n'), hooks, obsolete };
}

/** Parses a comma-separated flag value such as "22,8000-8080". */
export function parsePortList(flag: string, value: string): PortRange[] {
  return splitList(value).map((item) => {
    const parsed = parsePortSpec(item);
    if (!parsed.ok) throw new CaptureOptionsError(flag, `"${item}": ${parsed.error}`);
    return parsed.value;
  });
}

/** Parses a comma-separated list of CIDRs or addresses, either family. */
export function parseCidrList(flag: string, value: string): Cidr[] {
  return splitList(value).map((item) => {
    const parsed = parseCidr(item);
    if (!parsed.ok) throw new CaptureOptionsError(flag, `"${item}": ${parsed.error}`);
    return parsed.value;
  });
}

function splitList(value: string): string[] {
  return value
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s !== '');
}

function portArg(range: PortRange): string {
  return range.from === range.to ? String(range.from) : `${range.from}:${range.to}`;
}

function validate(opts: CaptureOptions): void {
  const port = (name: string, v: number | undefined) => {
    if (v !== undefined && (!Number.isInteger(v) || v < 1 || v > 65535)) throw new CaptureOptionsError(name, 'must be a port 1-65535');
  };
  const id = (name: string, v: number | undefined) => {
    if (v !== undefined && (!Number.isInteger(v) || v < 0 || v > 0xfffffffe)) throw new CaptureOptionsError(name, 'must be a numeric id');
  };
  port('proxyPort', opts.proxyPort);
  port('adminPort', opts.adminPort);
  id('proxyUid', opts.proxyUid);
  id('proxyGid', opts.proxyGid);
  // uid 0 would exempt every root process in the pod, i.e. usually the app itself.
  if (opts.proxyUid === 0) throw new CaptureOptionsError('proxyUid', 'must not be 0: root processes of the app would bypass the proxy');
  const excluded = opts.excludePorts ?? [];
  if (excluded.some((r) => r.from <= opts.proxyPort && opts.proxyPort <= r.to)) {
    // Harmless for the redirect itself, but it signals a confused configuration.
    throw new CaptureOptionsError('excludePorts', `contains the proxy port ${opts.proxyPort}`);
  }
}
