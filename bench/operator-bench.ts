// npm run bench:operator — on a real control plane (etcd + kube-apiserver
// from test/envtest), how long the operator takes to converge 1,000 opted-in
// namespaces (labels, both ConfigMaps with the namespace's view of the
// tenant directory: its tenant's namespaces and the shared ones, and the
// NetworkPolicy the profile asks for), and the operator's resident memory at
// that scale.
// Goals: <= 60 s and <= 200 MiB. The last line is one JSON summary.
//
// The operator runs as a child process (`node dist/cli/operator-command.js`),
// exactly as deployed; this process creates the namespaces and follows the
// result through watches (no polling of objects), sampling the operator's RSS
// from /proc.
import { spawn } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { join } from 'node:path';
import { installCRDs, startControlPlane } from '../test/envtest';
import { controlPlanePids, cpuSeconds } from './proc-stats';
import { loadKubeConfig } from '../operator/kube/kube-config';
import { KubeClient, type WatchEvent } from '../operator/kube/client';
import { CLUSTER_SECURITY_PROFILES, collectionPath, CONFIG_MAPS, NAMESPACES, NETWORK_POLICIES, type ResourceType } from '../operator/kube/resources';
import { MANAGED_SELECTOR } from '../operator/api/names';

const COUNT = Number(process.env.KDLP_BENCH_NAMESPACES ?? 1000);
const TENANTS = 50;
const CREATE_CONCURRENCY = 16;
const GOAL_SECONDS = 60;
const GOAL_MIB = 200;
const ROOT = join(__dirname, '..', '..');

interface NsState {
  labelled: boolean;
  profile: boolean;
  /** Namespaces listed in its view of the tenant directory. */
  listed: number;
  policy: boolean;
}

function rssMiB(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? 0);
  return kb / 1024;
}

/** RSS of a process and its descendants (the operator validates profiles in a child process). */
function treeRssMiB(pid: number): number {
  const children = new Map<number, number[]>();
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const ppid = Number(readFileSync(`/proc/${entry}/stat`, 'utf8').split(') ')[1]!.split(' ')[1]);
      children.set(ppid, [...(children.get(ppid) ?? []), Number(entry)]);
    } catch {
      // gone meanwhile
    }
  }
  let total = 0;
  const stack = [pid];
  while (stack.length > 0) {
    const p = stack.pop()!;
    try {
      total += rssMiB(p);
    } catch {
      continue;
    }
    stack.push(...(children.get(p) ?? []));
  }
  return total;
}

/** Follows one resource with a watch from "now"; `onObject` sees every add and update. */
function follow(client: KubeClient, r: ResourceType, labelSelector: string | undefined, onObject: (type: WatchEvent['type'], o: any) => void, signal: AbortSignal): Promise<void> {
  return (async () => {
    let rv = (await client.list(r, { labelSelector, pageSize: 1 })).resourceVersion;
    while (!signal.aborted) {
      await client
        .watch(collectionPath(r), { resourceVersion: rv, labelSelector, timeoutSeconds: 600 }, (e) => {
          if (e.type === 'BOOKMARK' || e.type === 'ERROR') return;
          rv = e.object.metadata.resourceVersion ?? rv;
          onObject(e.type, e.object);
        }, { signal })
        .catch(() => undefined);
    }
  })();
}

async function main(): Promise<void> {
  const entry = join(ROOT, 'dist', 'cli', 'operator-command.js');
  if (!existsSync(entry)) throw new Error('run `npm run build` first');
  process.stderr.write(`operator-bench: starting a control plane\n`);
  const plane = await startControlPlane();
  const stopAll: (() => Promise<void> | void)[] = [() => plane.stop()];
  try {
    await installCRDs(plane.kubeConfig, join(ROOT, 'crds'));
    const client = await KubeClient.create(loadKubeConfig({ kubeconfig: plane.kubeconfigPath }), { maxSockets: CREATE_CONCURRENCY });
    stopAll.push(() => client.close());
    await client.create(NAMESPACES, { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'kube-dlp-system' } });
    await client.apply(CLUSTER_SECURITY_PROFILES, { apiVersion: 'kubedlp.io/v1alpha1', kind: 'ClusterSecurityProfile', metadata: { name: 'default' }, spec: { mode: 'Monitor', tenancy: { networkPolicy: {} } } }, { fieldManager: 'bench' });

    // Logs at info (the default) go to a pipe: the first line names the admin port.
    const operator = spawn(process.execPath, [entry, '--kubeconfig', plane.kubeconfigPath, '--namespace', 'kube-dlp-system', '--admin', '127.0.0.1:0', '--log-level', process.env.KDLP_BENCH_LOG_LEVEL ?? 'info'], { stdio: ['ignore', 'pipe', 'inherit'] });
    const adminUrl = new Promise<string>((resolve) => {
      let buffered = '';
      operator.stdout!.on('data', (chunk: Buffer) => {
        buffered += chunk.toString('utf8');
        const m = /"admin":"([^"]+)"/.exec(buffered);
        if (m) resolve(`http://${m[1]}`);
        if (buffered.length > 65536) buffered = buffered.slice(-4096);
      });
    });
    stopAll.unshift(() => new Promise<void>((resolve) => (operator.exitCode !== null ? resolve() : (operator.once('exit', () => resolve()), operator.kill('SIGTERM')))));

    const names = Array.from({ length: COUNT }, (_, i) => `bench-${String(i).padStart(4, '0')}`);
    const state = new Map<string, NsState>(names.map((n) => [n, { labelled: false, profile: false, listed: 0, policy: false }]));
    // A namespace's view lists its own tenant's namespaces, plus kube-system as shared.
    const tenantSize = (t: number) => Math.floor(COUNT / TENANTS) + (t < COUNT % TENANTS ? 1 : 0);
    const wantListed = new Map(names.map((n, i) => [n, tenantSize(i % TENANTS) + 1]));
    let converged = 0;
    let convergedAt = 0;
    let resolveDone!: () => void;
    const done = new Promise<void>((r) => (resolveDone = r));
    const check = (ns: string) => {
      const s = state.get(ns);
      if (!s) return;
      const ok = s.labelled && s.profile && s.listed === wantListed.get(ns) && s.policy;
      const was = (s as NsState & { ok?: boolean }).ok ?? false;
      if (ok !== was) {
        (s as NsState & { ok?: boolean }).ok = ok;
        converged += ok ? 1 : -1;
        if (converged === COUNT) {
          convergedAt = Date.now();
          resolveDone();
        }
      }
    };
    const abort = new AbortController();
    stopAll.unshift(() => abort.abort());
    const watches = [
      follow(client, NAMESPACES, undefined, (_t, o) => {
        const s = state.get(o.metadata.name);
        if (s) {
          s.labelled = o.metadata.labels?.['kubedlp.io/injection'] === 'enabled' && o.metadata.labels?.['kubedlp.io/tenant'] !== undefined;
          check(o.metadata.name);
        }
      }, abort.signal),
      follow(client, CONFIG_MAPS, MANAGED_SELECTOR, (type, o) => {
        const s = state.get(o.metadata.namespace);
        if (!s) return;
        if (o.metadata.name === 'kube-dlp-profile') s.profile = type !== 'DELETED';
        if (o.metadata.name === 'kube-dlp-tenants') {
          const text: string = o.data?.['tenants.yaml'] ?? '';
          s.listed = type === 'DELETED' ? 0 : (text.match(/^ {2}- name: /gm) ?? []).length;
        }
        check(o.metadata.namespace);
      }, abort.signal),
      follow(client, NETWORK_POLICIES, MANAGED_SELECTOR, (type, o) => {
        const s = state.get(o.metadata.namespace);
        if (s) {
          s.policy = type !== 'DELETED';
          check(o.metadata.namespace);
        }
      }, abort.signal),
    ];
    void watches;

    // The clock starts once the operator is ready (caches synced, reconciling).
    const readyz = `${await adminUrl}/readyz`;
    for (;;) {
      if ((await fetch(readyz).catch(() => undefined))?.status === 200) break;
      if (operator.exitCode !== null) throw new Error(`the operator exited (${operator.exitCode})`);
      await new Promise((r) => setTimeout(r, 100));
    }
    let peakRss = 0;
    let peakTreeRss = 0;
    const sampler = setInterval(() => {
      if (!operator.pid || operator.exitCode !== null) return;
      peakRss = Math.max(peakRss, rssMiB(operator.pid));
      peakTreeRss = Math.max(peakTreeRss, treeRssMiB(operator.pid));
    }, 250);
    stopAll.unshift(() => clearInterval(sampler));

    process.stderr.write(`operator-bench: creating ${COUNT} opted-in namespaces (${TENANTS} tenants)\n`);
    const started = Date.now();
    const cpuAtStart = operator.pid ? cpuSeconds(operator.pid) : 0;
    const plane_ = controlPlanePids(dirname(plane.kubeconfigPath));
    const planeCpu = () => ({ apiserver: plane_.apiserver ? cpuSeconds(plane_.apiserver) : NaN, etcd: plane_.etcd ? cpuSeconds(plane_.etcd) : NaN });
    const planeCpuAtStart = planeCpu();
    let next = 0;
    await Promise.all(
      Array.from({ length: CREATE_CONCURRENCY }, async () => {
        while (next < names.length) {
          const i = next++;
          await client.create(NAMESPACES, {
            apiVersion: 'v1',
            kind: 'Namespace',
            metadata: { name: names[i]!, annotations: { 'kubedlp.io/inject': 'enabled', 'kubedlp.io/tenant': `tenant-${i % TENANTS}` } },
          });
        }
      }),
    );
    const createdAt = Date.now();
    process.stderr.write(`operator-bench: created in ${((createdAt - started) / 1000).toFixed(1)} s; waiting for convergence\n`);
    const timeout = setTimeout(() => resolveDone(), 600_000);
    await done;
    clearTimeout(timeout);
    if (converged !== COUNT) throw new Error(`only ${converged} of ${COUNT} namespaces converged in 10 minutes`);
    const convergeSeconds = (convergedAt - started) / 1000;
    const rss = operator.pid ? rssMiB(operator.pid) : NaN;
    const operatorCpu = operator.pid ? cpuSeconds(operator.pid) - cpuAtStart : NaN;
    const planeCpuEnd = planeCpu();
    const treeRss = operator.pid ? treeRssMiB(operator.pid) : NaN;
    peakTreeRss = Math.max(peakTreeRss, treeRss);
    peakRss = Math.max(peakRss, rss);

    const r1 = (n: number) => Math.round(n * 10) / 10;
    const metrics = await (await fetch(`${await adminUrl}/metrics`)).text();
    const metric = (name: string) => Number(new RegExp(`^${name} (\\S+)$`, 'm').exec(metrics)?.[1] ?? NaN);
    const heapUsed = metric('kubedlp_operator_nodejs_heap_size_used_bytes') / 1048576;
    const reconciles = metric('kubedlp_operator_reconciles_total\\{controller="namespace",result="success"\\}');
    process.stdout.write(`namespaces created in        ${r1((createdAt - started) / 1000)} s\n`);
    process.stdout.write(`converged (${COUNT} namespaces)  ${r1(convergeSeconds)} s   goal <= ${GOAL_SECONDS} s: ${convergeSeconds <= GOAL_SECONDS ? 'met' : 'MISSED'}\n`);
    process.stdout.write(
      `CPU while converging         operator ${r1(operatorCpu)} s, kube-apiserver ${r1(planeCpuEnd.apiserver - planeCpuAtStart.apiserver)} s, etcd ${r1(planeCpuEnd.etcd - planeCpuAtStart.etcd)} s\n`,
    );
    process.stdout.write(`namespace reconciles         ${reconciles}; operator heap in use ${r1(heapUsed)} MiB\n`);
    process.stdout.write(`operator RSS at convergence  ${r1(rss)} MiB  goal <= ${GOAL_MIB} MiB: ${rss <= GOAL_MIB ? 'met' : 'MISSED'} (peak ${r1(peakRss)} MiB; with its validation process: peak ${r1(peakTreeRss)} MiB)\n`);
    process.stdout.write(
      `${JSON.stringify({
        namespaces: COUNT,
        converge_1000_ns_s: r1(convergeSeconds),
        create_s: r1((createdAt - started) / 1000),
        rss_mib: r1(rss),
        rss_peak_mib: r1(peakRss),
        rss_tree_peak_mib: r1(peakTreeRss),
        heap_used_mib: r1(heapUsed),
        namespace_reconciles: reconciles,
        operator_cpu_s: r1(operatorCpu),
        apiserver_cpu_s: r1(planeCpuEnd.apiserver - planeCpuAtStart.apiserver),
        etcd_cpu_s: r1(planeCpuEnd.etcd - planeCpuAtStart.etcd),
        goals: { converge_s: GOAL_SECONDS, rss_mib: GOAL_MIB },
      })}\n`,
    );
  } finally {
    for (const stop of stopAll) await stop();
  }
}

main().then(
  () => process.exit(0),
  (err: unknown) => {
    process.stderr.write(`operator-bench: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exit(1);
  },
);
