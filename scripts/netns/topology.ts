// Network namespaces standing in for a pod and the network around it, for
// integration tests of transparent capture. Two namespaces joined by a veth
// pair that is created directly inside them (it never exists in the host
// namespace, so parallel test files cannot collide on interface names):
//
//   pod      eth0 10.213.0.1/30  fd13:213::1/126   default route via .2
//   internet eth0 10.213.0.2/30  fd13:213::2/126   + extra /32s on lo (service IPs)
//
// Each namespace is private to one test run, so every run may use the same
// addresses. Names carry the creating pid: stale namespaces of dead runs are
// removed (with their processes) before new ones are made.
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';

export const POD_V4 = '10.213.0.1';
export const INTERNET_V4 = '10.213.0.2';
export const POD_V6 = 'fd13:213::1';
export const INTERNET_V6 = 'fd13:213::2';

const PREFIX = 'kdlp-';

export interface RunResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

export interface Topology {
  pod: string;
  internet: string;
  /** Run a command inside a namespace and wait for it. */
  run(ns: string, argv: string[], opts?: { input?: string; timeoutMs?: number }): Promise<RunResult>;
  /** Start a long-running command inside a namespace; killed by destroy(). */
  spawn(ns: string, argv: string[]): ChildProcess;
  /** Kill every process started in the namespaces and delete them. */
  destroy(): Promise<void>;
}

export function run(argv: string[], opts: { input?: string; timeoutMs?: number } = {}): Promise<RunResult> {
  return new Promise((resolve) => {
    const child = spawn(argv[0]!, argv.slice(1), { stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    const timer = setTimeout(() => child.kill('SIGKILL'), opts.timeoutMs ?? 30_000);
    child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    child.on('error', (err) => {
      clearTimeout(timer);
      resolve({ code: null, stdout, stderr: stderr + err.message });
    });
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
    // A command that never reads its input closes the pipe: that is not an error here.
    child.stdin.on('error', () => undefined);
    child.stdin.end(opts.input ?? '');
  });
}

async function must(argv: string[]): Promise<RunResult> {
  const r = await run(argv);
  if (r.code !== 0) throw new Error(`${argv.join(' ')} failed (${r.code}): ${r.stderr.trim()}`);
  return r;
}

/**
 * Why namespace tests cannot run here, or undefined when they can. Tries
 * the real thing (a throwaway namespace with a veth and a nat rule) rather
 * than guessing from capabilities.
 */
export async function netnsUnavailableReason(): Promise<string | undefined> {
  if (process.platform !== 'linux') return `network namespaces need Linux (this is ${process.platform})`;
  if (typeof process.getuid === 'function' && process.getuid() !== 0) return 'network namespace tests need root';
  for (const tool of ['ip', 'iptables', 'ip6tables', 'setpriv', 'openssl']) {
    const r = await run(['sh', '-c', `command -v ${tool}`]);
    if (r.code !== 0) return `${tool} is not installed`;
  }
  const probe = `${PREFIX}${process.pid}-probe-${randomBytes(2).toString('hex')}`;
  const add = await run(['ip', 'netns', 'add', probe]);
  if (add.code !== 0) return `the kernel refused a network namespace: ${add.stderr.trim()}`;
  try {
    const veth = await run(['ip', '-n', probe, 'link', 'add', 'a0', 'type', 'veth', 'peer', 'name', 'a1']);
    if (veth.code !== 0) return `no veth support: ${veth.stderr.trim()}`;
    const nat = await run(['ip', 'netns', 'exec', probe, 'iptables', '-w', '5', '-t', 'nat', '-A', 'OUTPUT', '-p', 'tcp', '-m', 'owner', '--uid-owner', '1337', '-j', 'RETURN']);
    if (nat.code !== 0) return `no iptables nat/owner match in namespaces: ${nat.stderr.trim()}`;
    return undefined;
  } finally {
    await run(['ip', 'netns', 'del', probe]);
  }
}

/** Deletes namespaces left by test runs whose process is gone (and kills what still runs in them). */
export async function removeStaleNamespaces(): Promise<string[]> {
  const list = await run(['ip', 'netns', 'list']);
  const removed: string[] = [];
  for (const line of list.stdout.split('\n')) {
    const name = line.split(' ')[0] ?? '';
    const m = new RegExp(`^${PREFIX}(\\d+)-`).exec(name);
    if (!m || pidAlive(Number(m[1]))) continue;
    await killNamespaceProcesses(name);
    await run(['ip', 'netns', 'del', name]);
    removed.push(name);
  }
  return removed;
}

export async function createTopology(tag: string, opts: { serviceAddresses?: string[] } = {}): Promise<Topology> {
  const id = `${PREFIX}${process.pid}-${tag}-${randomBytes(2).toString('hex')}`;
  const pod = `${id}-pod`;
  const internet = `${id}-net`;
  const children = new Set<ChildProcess>();
  const topology: Topology = {
    pod,
    internet,
    run: (ns, argv, o) => run(['ip', 'netns', 'exec', ns, ...argv], o),
    spawn(ns, argv) {
      const child = spawn('ip', ['netns', 'exec', ns, ...argv], { stdio: ['ignore', 'pipe', 'pipe'] });
      children.add(child);
      child.once('exit', () => children.delete(child));
      return child;
    },
    async destroy() {
      for (const c of children) c.kill('SIGKILL');
      for (const ns of [pod, internet]) {
        await killNamespaceProcesses(ns);
        await run(['ip', 'netns', 'del', ns]);
      }
    },
  };
  try {
    await must(['ip', 'netns', 'add', pod]);
    await must(['ip', 'netns', 'add', internet]);
    for (const ns of [pod, internet]) await must(['ip', '-n', ns, 'link', 'set', 'lo', 'up']);
    await must(['ip', 'link', 'add', 'eth0', 'netns', pod, 'type', 'veth', 'peer', 'name', 'eth0', 'netns', internet]);
    await must(['ip', '-n', pod, 'addr', 'add', `${POD_V4}/30`, 'dev', 'eth0']);
    await must(['ip', '-n', internet, 'addr', 'add', `${INTERNET_V4}/30`, 'dev', 'eth0']);
    // nodad: the address is usable at once instead of after duplicate detection.
    await must(['ip', '-n', pod, 'addr', 'add', `${POD_V6}/126`, 'dev', 'eth0', 'nodad']);
    await must(['ip', '-n', internet, 'addr', 'add', `${INTERNET_V6}/126`, 'dev', 'eth0', 'nodad']);
    for (const ns of [pod, internet]) await must(['ip', '-n', ns, 'link', 'set', 'eth0', 'up']);
    await must(['ip', '-n', pod, 'route', 'add', 'default', 'via', INTERNET_V4]);
    await must(['ip', '-n', pod, '-6', 'route', 'add', 'default', 'via', INTERNET_V6]);
    for (const a of opts.serviceAddresses ?? []) await must(['ip', '-n', internet, 'addr', 'add', `${a}/32`, 'dev', 'lo']);
  } catch (err) {
    await topology.destroy();
    throw err;
  }
  return topology;
}

async function killNamespaceProcesses(ns: string): Promise<void> {
  const pids = await run(['ip', 'netns', 'pids', ns]);
  for (const pid of pids.stdout.split(/\s+/).filter((p) => /^\d+$/.test(p))) {
    try {
      process.kill(Number(pid), 'SIGKILL');
    } catch {
      // Already gone.
    }
  }
}

function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}
