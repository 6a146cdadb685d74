// `kube-dlp init-iptables`: what the injected init container runs (with
// NET_ADMIN) to send the pod's TCP egress to the proxy. Until the proxy
// listens, redirected connections are refused: the pod fails closed, with no
// egress rather than uninspected egress.
import type { Command } from 'commander';
import {
  buildCapturePlan,
  parseCidrList,
  parsePortList,
  type CaptureOptions,
  type CapturePlan,
  type IpFamily,
} from '../proxy/transparent/capture-rules';
import {
  installCapture,
  ipv6InUse,
  natTableAvailable,
  removeCapture,
  renderCaptureScript,
  systemRunner,
  type CommandRunner,
  type IptablesVariant,
} from '../proxy/transparent/capture-apply';
import { CaptureApplyError, CaptureOptionsError, Ipv6CaptureUnavailableError } from '../proxy/transparent/errors';
import { UsageError } from './exit-codes';

export interface InitIptablesOptions {
  proxyPort: string;
  proxyUid: string;
  proxyGid?: string;
  adminPort?: string;
  excludePorts?: string;
  excludeCidrs?: string;
  inbound?: string;
  excludeInboundPorts?: string;
  ipv6: string;
  iptables: string;
  dryRun?: boolean;
  remove?: boolean;
}

/** Exit code when the rules could not be applied: the init container fails and the pod does not start. */
export const EXIT_APPLY_FAILED = 3;

export function registerInitIptablesCommand(program: Command): void {
  program
    .command('init-iptables')
    .description('redirect the pod\'s TCP egress to the DLP proxy (init container, needs NET_ADMIN); idempotent')
    .option('--proxy-port <port>', 'port the proxy accepts redirected connections on', '15001')
    // 1337 is only for running this by hand (and the network-namespace tests).
    // In a pod the webhook passes the uid it drew for that pod's sidecar
    // (operator/inject/proxy-uid.ts): a fixed uid can be baked into an image
    // with USER, and that image's traffic would go out uncaptured.
    .option('--proxy-uid <uid>', "the proxy's uid; its own connections are not redirected (injected pods get a uid drawn per pod)", '1337')
    .option('--proxy-gid <gid>', 'also exempt connections of this gid')
    .option('--admin-port <port>', "the proxy's admin port, never captured inbound", '15090')
    .option('--exclude-ports <list>', 'destination ports/ranges not redirected, e.g. 5432,9000-9100')
    .option('--exclude-cidrs <list>', 'destination networks not redirected, IPv4 and IPv6, e.g. 10.0.0.0/8,fd00::/8')
    .option('--inbound <list>', 'inbound ports whose connections also pass through the proxy ("*" for all); default none')
    .option('--exclude-inbound-ports <list>', 'inbound ports never redirected (with --inbound "*")')
    .option('--ipv6 <mode>', 'auto: ip6tables too when IPv6 is configured (fails if it cannot be captured); on; off', 'auto')
    .option('--iptables <variant>', 'iptables backend: default (the iptables on PATH), nft or legacy', 'default')
    .option('--dry-run', 'print the commands as a shell script instead of running them')
    .option('--remove', 'remove the redirect (chains and jumps) instead of installing it')
    .action(async (opts: InitIptablesOptions) => {
      process.exitCode = await runInitIptables(opts, systemRunner, (line) => process.stdout.write(line));
    });
}

/** Resolves to the exit code; usage errors are thrown as UsageError for main() to report. */
export async function runInitIptables(opts: InitIptablesOptions, run: CommandRunner, print: (text: string) => void): Promise<number> {
  const variant = parseVariant(opts.iptables);
  const ipv6 = parseIpv6Mode(opts.ipv6);
  let capture: CaptureOptions;
  let plans: CapturePlan[];
  try {
    capture = captureOptions(opts);
    plans = (['ipv4', 'ipv6'] as const).filter((f) => f === 'ipv4' || ipv6 !== 'off').map((f) => buildCapturePlan(capture, f));
  } catch (err) {
    if (err instanceof CaptureOptionsError) throw new UsageError(`init-iptables: --${kebab(err.option)} ${err.reason}`);
    throw err;
  }

  if (opts.dryRun) {
    if (opts.remove) {
      print(`# --remove deletes the jumps to KUBEDLP_OUTPUT/KUBEDLP_INBOUND and those chains (${plans.map((p) => p.family).join(', ')})\n`);
      return 0;
    }
    print(renderCaptureScript(plans, variant));
    return 0;
  }

  try {
    if (opts.remove) {
      for (const plan of plans) {
        if (plan.family === 'ipv6' && ipv6 === 'auto' && (await natTableAvailable('ipv6', run, variant)).code !== 0) continue;
        const n = await removeCapture(plan.family, run, variant);
        print(`${plan.family}: removed ${n} jump rule(s) and the KUBEDLP chains\n`);
      }
      return 0;
    }
    for (const plan of plans) {
      if (plan.family === 'ipv6' && ipv6 === 'auto' && !(await ipv6Capturable(run, variant))) {
        print('ipv6: no IPv6 address configured and no ip6tables nat table: nothing to capture\n');
        continue;
      }
      await installCapture(plan, run, variant);
      print(`${plan.family}: TCP egress redirected to port ${capture.proxyPort} (uid ${capture.proxyUid} exempt)\n`);
    }
    return 0;
  } catch (err) {
    if (err instanceof CaptureApplyError || err instanceof Ipv6CaptureUnavailableError) {
      process.stderr.write(`kube-dlp init-iptables: ${err.message}\n`);
      return EXIT_APPLY_FAILED;
    }
    throw err;
  }
}

/** auto mode: program ip6tables when it works; refuse when IPv6 is configured but cannot be captured. */
async function ipv6Capturable(run: CommandRunner, variant: IptablesVariant): Promise<boolean> {
  const nat = await natTableAvailable('ipv6' as IpFamily, run, variant);
  if (nat.code === 0) return true;
  if (await ipv6InUse()) throw new Ipv6CaptureUnavailableError(nat.stderr.trim().split('\n')[0] || `exit ${nat.code}`);
  return false;
}

function captureOptions(opts: InitIptablesOptions): CaptureOptions {
  const inbound = opts.inbound?.trim();
  return {
    proxyPort: integer('proxyPort', opts.proxyPort),
    proxyUid: integer('proxyUid', opts.proxyUid),
    proxyGid: opts.proxyGid === undefined ? undefined : integer('proxyGid', opts.proxyGid),
    adminPort: opts.adminPort === undefined || opts.adminPort === 'off' ? undefined : integer('adminPort', opts.adminPort),
    excludePorts: opts.excludePorts ? parsePortList('excludePorts', opts.excludePorts) : [],
    excludeCidrs: opts.excludeCidrs ? parseCidrList('excludeCidrs', opts.excludeCidrs) : [],
    inboundPorts: inbound === '*' ? 'all' : inbound ? parsePortList('inbound', inbound) : [],
    excludeInboundPorts: opts.excludeInboundPorts ? parsePortList('excludeInboundPorts', opts.excludeInboundPorts) : [],
  };
}

function integer(option: string, value: string): number {
  if (!/^\d{1,10}$/.test(value.trim())) throw new CaptureOptionsError(option, `"${value}" is not a non-negative integer`);
  return Number(value.trim());
}

function parseVariant(value: string): IptablesVariant {
  if (value === 'default' || value === 'nft' || value === 'legacy') return value;
  throw new UsageError(`init-iptables: --iptables must be default, nft or legacy, not "${value}"`);
}

function parseIpv6Mode(value: string): 'auto' | 'on' | 'off' {
  if (value === 'auto' || value === 'on' || value === 'off') return value;
  throw new UsageError(`init-iptables: --ipv6 must be auto, on or off, not "${value}"`);
}

function kebab(option: string): string {
  return option.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`);
}
