// Applies (or removes, or prints) capture plans with the iptables tools.
// Idempotent: chain contents are replaced atomically by iptables-restore,
// and each jump from a built-in chain is checked (-C) before it is
// inserted, so running init twice leaves exactly the same rules.
import { spawn } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { chainNames, type CapturePlan, type HookRule, type IpFamily } from './capture-rules';
import { CaptureApplyError } from './errors';

export interface CommandResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs one command; injectable so tests can record what would run. */
export type CommandRunner = (command: string, args: string[], input?: string) => Promise<CommandResult>;

/** `default` uses whatever `iptables` points at (nft on current distributions); the others pin a backend. */
export type IptablesVariant = 'default' | 'nft' | 'legacy';

export interface IptablesBinaries {
  iptables: string;
  restore: string;
}

// iptables waits this long for the xtables lock instead of failing when another writer holds it.
const WAIT = ['-w', '5'];

export function binariesFor(family: IpFamily, variant: IptablesVariant = 'default'): IptablesBinaries {
  const base = family === 'ipv4' ? 'iptables' : 'ip6tables';
  const name = variant === 'default' ? base : `${base}-${variant}`;
  return { iptables: name, restore: `${name}-restore` };
}

export const systemRunner: CommandRunner = (command, args, input) =>
  new Promise((resolve, reject) => {
    const child = spawn(command, args, { stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
    // A command that exits without reading its input closes the pipe; its exit code tells what happened.
    child.stdin.on('error', () => undefined);
    child.stdin.end(input ?? '');
  });

export async function installCapture(plan: CapturePlan, run: CommandRunner, variant: IptablesVariant = 'default'): Promise<void> {
  const bin = binariesFor(plan.family, variant);
  const restoreArgs = ['--noflush', ...WAIT];
  await must(run, bin.restore, restoreArgs, plan.restoreInput);
  for (const hook of plan.hooks) {
    const check = await run(bin.iptables, [...WAIT, '-t', hook.table, '-C', hook.chain, ...hook.rule]);
    if (check.code === 0) continue;
    if (check.code !== 1) throw new CaptureApplyError(commandLine(bin.iptables, [...WAIT, '-t', hook.table, '-C', hook.chain, ...hook.rule]), check.code, check.stderr);
    // First in the chain: a rule someone else added earlier must not let traffic skip capture.
    await must(run, bin.iptables, [...WAIT, '-t', hook.table, '-I', hook.chain, '1', ...hook.rule]);
  }
  for (const hook of plan.obsolete.hooks) await deleteHook(run, bin, hook);
  for (const chain of plan.obsolete.chains) await deleteChain(run, bin, chain);
}

async function deleteHook(run: CommandRunner, bin: IptablesBinaries, hook: HookRule): Promise<number> {
  let deleted = 0;
  // Bounded: a rule duplicated by hand is removed too, but a failing delete never loops.
  for (let i = 0; i < 16; i++) {
    const r = await run(bin.iptables, [...WAIT, '-t', hook.table, '-D', hook.chain, ...hook.rule]);
    if (r.code !== 0) break;
    deleted++;
  }
  return deleted;
}

async function deleteChain(run: CommandRunner, bin: IptablesBinaries, chain: string): Promise<void> {
  const exists = await run(bin.iptables, [...WAIT, '-t', 'nat', '-S', chain]);
  if (exists.code !== 0) return;
  await must(run, bin.iptables, [...WAIT, '-t', 'nat', '-F', chain]);
  await must(run, bin.iptables, [...WAIT, '-t', 'nat', '-X', chain]);
}

/**
 * Removes our jumps and chains. Absent rules and chains are fine (removal
 * is idempotent too); returns how many jump rules were deleted.
 */
export async function removeCapture(
  family: IpFamily,
  run: CommandRunner,
  variant: IptablesVariant = 'default',
  chainPrefix?: string,
): Promise<number> {
  const bin = binariesFor(family, variant);
  const names = chainNames(chainPrefix);
  const hooks: HookRule[] = [
    { table: 'nat', chain: 'OUTPUT', rule: ['-p', 'tcp', '-j', names.output] },
    { table: 'nat', chain: 'PREROUTING', rule: ['-p', 'tcp', '-j', names.inbound] },
  ];
  let deleted = 0;
  for (const hook of hooks) deleted += await deleteHook(run, bin, hook);
  for (const chain of [names.output, names.inbound]) await deleteChain(run, bin, chain);
  return deleted;
}

/** True when the nat table of this family can be read (kernel support and permissions). */
export async function natTableAvailable(family: IpFamily, run: CommandRunner, variant: IptablesVariant = 'default'): Promise<CommandResult> {
  try {
    return await run(binariesFor(family, variant).iptables, [...WAIT, '-t', 'nat', '-S', 'OUTPUT']);
  } catch (err) {
    return { code: null, stdout: '', stderr: (err as Error).message };
  }
}

/** True when an IPv6 address other than loopback and link-local is configured in this network namespace. */
export async function ipv6InUse(ifInet6Path = '/proc/net/if_inet6'): Promise<boolean> {
  let text: string;
  try {
    text = await readFile(ifInet6Path, 'utf8');
  } catch {
    return false; // IPv6 disabled in this kernel or namespace.
  }
  return text
    .split('\n')
    .map((l) => l.trim().split(/\s+/))
    .some((f) => f.length >= 6 && f[5] !== 'lo' && !f[0]!.startsWith('fe80') && f[0] !== '00000000000000000000000000000001');
}

/** The plans as a POSIX shell script doing exactly what installCapture does (for --dry-run). */
export function renderCaptureScript(plans: CapturePlan[], variant: IptablesVariant = 'default'): string {
  const out = ['#!/bin/sh', '# kube-dlp init-iptables: redirect TCP egress to the DLP proxy', 'set -e'];
  for (const plan of plans) {
    const bin = binariesFor(plan.family, variant);
    out.push('', `# ${plan.family}`, `${bin.restore} --noflush ${WAIT.join(' ')} <<'KUBEDLP_RULES'`, plan.restoreInput.trimEnd(), 'KUBEDLP_RULES');
    for (const hook of plan.hooks) {
      const rule = hook.rule.join(' ');
      out.push(
        `${bin.iptables} ${WAIT.join(' ')} -t ${hook.table} -C ${hook.chain} ${rule} 2>/dev/null || ` +
          `${bin.iptables} ${WAIT.join(' ')} -t ${hook.table} -I ${hook.chain} 1 ${rule}`,
      );
    }
    for (const hook of plan.obsolete.hooks) {
      out.push(`while ${bin.iptables} ${WAIT.join(' ')} -t ${hook.table} -D ${hook.chain} ${hook.rule.join(' ')} 2>/dev/null; do :; done`);
    }
    for (const chain of plan.obsolete.chains) {
      out.push(`if ${bin.iptables} ${WAIT.join(' ')} -t nat -S ${chain} >/dev/null 2>&1; then ${bin.iptables} ${WAIT.join(' ')} -t nat -F ${chain}; ${bin.iptables} ${WAIT.join(' ')} -t nat -X ${chain}; fi`);
    }
  }
  return `${out.join('\n')}\n`;
}

async function must(run: CommandRunner, command: string, args: string[], input?: string): Promise<CommandResult> {
  let r: CommandResult;
  try {
    r = await run(command, args, input);
  } catch (err) {
    throw new CaptureApplyError(commandLine(command, args), null, (err as Error).message);
  }
  if (r.code !== 0) throw new CaptureApplyError(commandLine(command, args), r.code, r.stderr);
  return r;
}

function commandLine(command: string, args: string[]): string {
  return [command, ...args].join(' ');
}
