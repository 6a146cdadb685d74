// Webhook latency through a real kube-apiserver (test/envtest): rounds of 50
// concurrent pod creations in an opted-in namespace, each sent by the
// apiserver to the injection webhook. The webhook runs in its own process,
// as it does in the operator's pod, so the load generator's JSON and HTTP
// work does not queue in front of admission requests; and it is registered
// at a non-loopback address of this machine, because the apiserver speaks
// HTTP/2 only to loopback webhooks and a Service-based webhook (every real
// install) gets HTTP/1.1 with at most 25 idle connections kept: with 50
// concurrent creations, half of each round's admission requests come on new
// TLS connections. Reports the webhook's own time per admission request (TLS
// read to answer written), its CPU per request, and pod creation latency,
// interleaved in the same run, in three namespaces: kube-dlp's webhook, a
// minimal webhook (same process, certificate and transport; adds one label:
// what calling any mutating webhook costs), and none. The added
// p99 (kube-dlp vs none) is the goal (<= 20 ms). The last line is JSON.
//   node dist/bench/webhook-bench.js      (KDLP_BENCH_WEBHOOK_ROUNDS, default 6)
import { fork, type ChildProcess } from 'node:child_process';
import { dirname } from 'node:path';
import { randomBytes } from 'node:crypto';
import { networkInterfaces } from 'node:os';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { Registry } from 'prom-client';
import { getControlPlane, newNamespace, KUBECONFIG_ENV } from '../test/envtest';
import { KubeClient } from '../operator/kube/client';
import { silentLogger } from '../operator/kube/logger';
import { NAMESPACES, PODS, MUTATING_WEBHOOK_CONFIGURATIONS, SECRETS } from '../operator/kube/resources';
import type { KubeObject } from '../operator/model/kube-object';
import { startInjection } from '../operator/run-injection';
import { allowWithPatch, readAdmissionRequest } from '../operator/webhook/admission';
import { WebhookMetrics } from '../operator/webhook/metrics';
import { WebhookServer } from '../operator/webhook/server';
import { desiredWebhookConfiguration } from '../operator/webhook/webhook-configuration';
import { controlPlanePids, cpuSeconds } from './proc-stats';

const CONCURRENCY = Number(process.env.KDLP_BENCH_WEBHOOK_CONCURRENCY ?? 50);
const ROUNDS = Number(process.env.KDLP_BENCH_WEBHOOK_ROUNDS ?? 6);
const WARMUP_ROUNDS = 1;
const SUITE_LABEL = 'kube-dlp.test/webhook-suite';
const GOAL_ADDED_P99_MS = 20;
const MINIMAL_LABEL = 'kube-dlp.test~1answered';
const MINIMAL_PATCH = [{ op: 'add' as const, path: `/metadata/labels/${MINIMAL_LABEL}`, value: 'true' }];

function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!;
}

const ms = (x: number) => Math.round(x * 100) / 100;
const sorted = (xs: readonly number[]) => [...xs].sort((a, b) => a - b);

function pod(name: string): KubeObject {
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name, labels: { app: 'bench' } },
    spec: { containers: [{ name: 'app', image: 'app:1', ports: [{ containerPort: 8080 }], env: [{ name: 'A', value: '1' }] }] },
  };
}

/** Creates CONCURRENCY pods at once; returns each creation's latency in ms. */
async function round(client: KubeClient, namespace: string, tag: string): Promise<number[]> {
  return Promise.all(
    Array.from({ length: CONCURRENCY }, async (_, i) => {
      const start = process.hrtime.bigint();
      await client.create(PODS, pod(`${tag}-${i}`), namespace);
      return Number(process.hrtime.bigint() - start) / 1e6;
    }),
  );
}

/** A non-loopback IPv4 address of this machine: the apiserver treats it as a remote webhook (HTTP/1.1), as it treats a Service. */
function remoteLookingAddress(): string | undefined {
  for (const addresses of Object.values(networkInterfaces())) {
    const found = addresses?.find((a) => a.family === 'IPv4' && !a.internal);
    if (found) return found.address;
  }
  return undefined;
}

// ------------------------------------------------------- webhook process ----
// Messages between the bench and the webhook process (IPC).
interface WebhookStart {
  operatorNamespace: string;
  configName: string;
  host: string;
}
type ToWebhook = { kind: 'record'; on: boolean } | { kind: 'collect' };
type FromWebhook =
  | { kind: 'ready'; port: number; minimalPort: number }
  | { kind: 'collected'; seconds: number[]; cpuMicros: number; loopDelayP99Ms: number; loopDelayMaxMs: number };

async function runWebhookProcess(start: WebhookStart): Promise<void> {
  const plane = await getControlPlane();
  const client = await KubeClient.create(plane.kubeConfig);
  const seconds: number[] = [];
  let recording = false;
  let cpuAtRecord = process.cpuUsage();
  let cpuMicros = 0;
  const loopDelay = monitorEventLoopDelay({ resolution: 1 });
  const injection = await startInjection({
    client,
    log: silentLogger,
    registry: new Registry(),
    events: { record: () => {} },
    operatorNamespace: start.operatorNamespace,
    image: 'registry.example/kube-dlp:bench',
    listen: { host: start.host, port: 0 },
    webhookConfigurationName: start.configName,
    dnsNames: ['localhost'],
    ipAddresses: [start.host],
    certCheckIntervalMs: 3_600_000,
    observeRequest: (s) => {
      if (recording) seconds.push(s);
    },
  });
  const send = (m: FromWebhook) => process.send!(m);
  process.on('message', (m: ToWebhook) => {
    if (m.kind === 'record') {
      recording = m.on;
      if (m.on) {
        cpuAtRecord = process.cpuUsage();
        // Enabled once, for all the measured rounds: a histogram re-enabled
        // after a pause counts the pause as one long delay.
        loopDelay.enable();
      } else {
        const used = process.cpuUsage(cpuAtRecord);
        cpuMicros += used.user + used.system;
      }
      return;
    }
    send({ kind: 'collected', seconds, cpuMicros, loopDelayP99Ms: loopDelay.percentile(99) / 1e6, loopDelayMaxMs: loopDelay.max / 1e6 });
    void Promise.all([injection.close(), minimal.close()]).then(() => {
      client.close();
      process.exit(0);
    });
  });
  // Beside it, on the same certificate: a webhook that only adds a label.
  const secret = await client.get<{ data: Record<string, string> }>(SECRETS, 'kube-dlp-webhook-tls', start.operatorNamespace);
  const pem = (key: string) => Buffer.from(secret.data[key]!, 'base64').toString('utf8');
  const minimal = new WebhookServer({
    handler: { review: async (body) => ({ review: allowWithPatch(readAdmissionRequest(body).uid, MINIMAL_PATCH), result: 'injected' }) },
    metrics: new WebhookMetrics(new Registry()),
    log: silentLogger,
    identity: { certPem: pem('tls.crt'), keyPem: pem('tls.key') },
  });
  const minimalAddress = await minimal.listen({ host: start.host, port: 0 });
  send({ kind: 'ready', port: injection.address.port, minimalPort: minimalAddress.port });
}

function startWebhookProcess(kubeconfigPath: string, start: WebhookStart): Promise<{ child: ChildProcess; port: number; minimalPort: number }> {
  const child = fork(__filename, ['--role', 'webhook', JSON.stringify(start)], {
    // KDLP_BENCH_WEBHOOK_CPU_PROF=DIR: a CPU profile of the webhook process, written when it ends.
    execArgv: process.env.KDLP_BENCH_WEBHOOK_CPU_PROF ? ['--cpu-prof', '--cpu-prof-dir', process.env.KDLP_BENCH_WEBHOOK_CPU_PROF] : [],
    env: { ...process.env, [KUBECONFIG_ENV]: kubeconfigPath },
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  return new Promise((resolve, reject) => {
    child.once('message', (m: FromWebhook) => (m.kind === 'ready' ? resolve({ child, port: m.port, minimalPort: m.minimalPort }) : reject(new Error('unexpected message'))));
    child.once('exit', (code) => reject(new Error(`the webhook process exited (code ${code}) before it was ready`)));
  });
}

function collect(child: ChildProcess): Promise<Extract<FromWebhook, { kind: 'collected' }>> {
  return new Promise((resolve) => {
    child.once('message', (m: FromWebhook) => {
      if (m.kind === 'collected') resolve(m);
    });
    child.send({ kind: 'collect' } satisfies ToWebhook);
  });
}

// --------------------------------------------------------------- bench ----
async function main(): Promise<void> {
  const plane = await getControlPlane();
  const client = await KubeClient.create(plane.kubeConfig, { maxSockets: CONCURRENCY });
  const suite = randomBytes(4).toString('hex');
  const configName = `kube-dlp-injector-bench-${suite}`;
  const minimalConfigName = `kube-dlp-minimal-bench-${suite}`;
  const operatorNamespace = await newNamespace(plane.kubeConfig, 'kdlp-bench-operator');
  const remote = remoteLookingAddress();
  const host = remote ?? '127.0.0.1';
  const { child, port, minimalPort } = await startWebhookProcess(plane.kubeconfigPath, { operatorNamespace, configName, host });
  const record = (on: boolean) => child.send({ kind: 'record', on } satisfies ToWebhook);
  try {
    const secret = await client.get<{ data: Record<string, string> }>(SECRETS, 'kube-dlp-webhook-tls', operatorNamespace);
    const caBundlePem = Buffer.from(secret.data['ca.crt']!, 'base64').toString('utf8');
    // One configuration per webhook, each selecting its own namespace of this run.
    const register = async (name: string, webhookPort: number, selects: string) => {
      const config = desiredWebhookConfiguration({ operatorNamespace, failurePolicy: 'Fail', url: `https://${host}:${webhookPort}/inject`, caBundlePem, name }) as KubeObject & {
        webhooks: { namespaceSelector: { matchExpressions: unknown[] } }[];
      };
      config.webhooks[0]!.namespaceSelector.matchExpressions.push({ key: SUITE_LABEL, operator: 'In', values: [selects] });
      await client.create(MUTATING_WEBHOOK_CONFIGURATIONS, config);
    };
    const optedIn = async (prefix: string, selects: string) => {
      const name = await newNamespace(plane.kubeConfig, prefix);
      await client.mergePatch(NAMESPACES, name, undefined, {
        metadata: { labels: { 'kubedlp.io/injection': 'enabled', [SUITE_LABEL]: selects }, annotations: { 'kubedlp.io/inject': 'enabled' } },
      });
      return name;
    };
    await register(configName, port, suite);
    await register(minimalConfigName, minimalPort, `${suite}-minimal`);
    const injected = await optedIn('kdlp-bench-injected', suite);
    const minimal = await optedIn('kdlp-bench-minimal', `${suite}-minimal`);
    const plain = await newNamespace(plane.kubeConfig, 'kdlp-bench-plain');
    // Until the apiserver has picked up a configuration, pods are created unchanged: wait for one that is not.
    const waitForWebhook = async (namespace: string, label: string) => {
      for (let i = 0; ; i++) {
        const p = await client.request<{ metadata: { labels?: Record<string, string> } }>('POST', `/api/v1/namespaces/${namespace}/pods`, {
          query: { dryRun: 'All' },
          body: pod('probe'),
        });
        if (p.metadata.labels?.[label] === 'true') return;
        if (i > 300) throw new Error(`the apiserver never called the webhook of ${namespace}`);
        await new Promise((r) => setTimeout(r, 100));
      }
    };
    await waitForWebhook(injected, 'kubedlp.io/injected');
    await waitForWebhook(minimal, MINIMAL_LABEL.replace('~1', '/'));

    for (let r = 0; r < WARMUP_ROUNDS; r++) {
      await round(client, injected, `warm-${r}`);
      await round(client, minimal, `warm-${r}`);
      await round(client, plain, `warm-${r}`);
    }
    const withWebhook: number[] = [];
    const withMinimalWebhook: number[] = [];
    const withoutWebhook: number[] = [];
    // The control plane's CPU per creation, by namespace: what each webhook makes the apiserver and etcd do.
    const { apiserver, etcd } = controlPlanePids(dirname(plane.kubeconfigPath));
    const planePids = [apiserver, etcd].filter((p): p is number => p !== undefined);
    // CPU milliseconds the control plane has used so far.
    const planeCpuMs = () => planePids.reduce((sum, pid) => sum + cpuSeconds(pid) * 1000, 0);
    const planeCpu = { kubeDlp: 0, minimal: 0, none: 0 };
    const timed = async (kind: keyof typeof planeCpu, namespace: string, tag: string) => {
      const before = planeCpuMs();
      const latencies = await round(client, namespace, tag);
      planeCpu[kind] += planeCpuMs() - before;
      return latencies;
    };
    for (let r = 0; r < ROUNDS; r++) {
      // Interleaved, so both see the same apiserver and machine state.
      withoutWebhook.push(...(await timed('none', plain, `r${r}`)));
      withMinimalWebhook.push(...(await timed('minimal', minimal, `r${r}`)));
      record(true);
      withWebhook.push(...(await timed('kubeDlp', injected, `r${r}`)));
      record(false);
    }
    const webhook = await collect(child);
    const w = sorted(webhook.seconds.map((s) => s * 1000));
    const c = sorted(withWebhook);
    const b = sorted(withoutWebhook);
    const m = sorted(withMinimalWebhook);
    const added = percentile(c, 99) - percentile(b, 99);
    const cpuPerRequestMs = webhook.cpuMicros / 1000 / Math.max(1, w.length);
    const creations = ROUNDS * CONCURRENCY;
    const planePer = (kind: keyof typeof planeCpu) => planeCpu[kind] / creations;
    const transport = remote ? `https://${host} (non-loopback: HTTP/1.1, as through a Service)` : 'https://127.0.0.1 (no non-loopback address here)';
    process.stdout.write(`webhook: ${w.length} admission requests, ${CONCURRENCY} concurrent pod creations x ${ROUNDS} rounds, ${transport}\n`);
    process.stdout.write(`  webhook time      p50 ${ms(percentile(w, 50))} ms  p99 ${ms(percentile(w, 99))} ms  max ${ms(w[w.length - 1]!)} ms\n`);
    process.stdout.write(`  webhook CPU       ${ms(cpuPerRequestMs)} ms per admission request (TLS handshakes included)\n`);
    process.stdout.write(
      `  apiserver + etcd CPU per creation: ${ms(planePer('kubeDlp'))} ms with kube-dlp, ${ms(planePer('minimal'))} ms with the minimal webhook, ${ms(planePer('none'))} ms with none${planePids.length < 2 ? ' (control plane processes not all found)' : ''}\n`,
    );
    process.stdout.write(`  webhook loop delay p99 ${ms(webhook.loopDelayP99Ms)} ms  max ${ms(webhook.loopDelayMaxMs)} ms\n`);
    process.stdout.write(`  create, webhook   p50 ${ms(percentile(c, 50))} ms  p99 ${ms(percentile(c, 99))} ms\n`);
    process.stdout.write(`  create, minimal   p50 ${ms(percentile(m, 50))} ms  p99 ${ms(percentile(m, 99))} ms  (a webhook that adds one label)\n`);
    process.stdout.write(`  create, baseline  p50 ${ms(percentile(b, 50))} ms  p99 ${ms(percentile(b, 99))} ms  (no webhook in the path)\n`);
    process.stdout.write(`  added by the webhook: p99 ${ms(added)} ms (goal <= ${GOAL_ADDED_P99_MS} ms)\n`);
    process.stdout.write(
      `${JSON.stringify({
        bench: 'webhook',
        concurrency: CONCURRENCY,
        rounds: ROUNDS,
        requests: w.length,
        webhook_url_loopback: !remote,
        webhook_p50_ms: ms(percentile(w, 50)),
        webhook_p99_ms: ms(percentile(w, 99)),
        webhook_cpu_ms_per_request: ms(cpuPerRequestMs),
        webhook_event_loop_p99_ms: ms(webhook.loopDelayP99Ms),
        control_plane_cpu_ms_per_creation: { kube_dlp: ms(planePer('kubeDlp')), minimal_webhook: ms(planePer('minimal')), none: ms(planePer('none')) },
        create_p50_ms: ms(percentile(c, 50)),
        create_p99_ms: ms(percentile(c, 99)),
        create_minimal_webhook_p50_ms: ms(percentile(m, 50)),
        create_minimal_webhook_p99_ms: ms(percentile(m, 99)),
        create_baseline_p50_ms: ms(percentile(b, 50)),
        create_baseline_p99_ms: ms(percentile(b, 99)),
        create_added_p99_ms: ms(added),
        goal_create_added_p99_ms: GOAL_ADDED_P99_MS,
      })}\n`,
    );
  } finally {
    await client.delete(MUTATING_WEBHOOK_CONFIGURATIONS, configName).catch(() => {});
    await client.delete(MUTATING_WEBHOOK_CONFIGURATIONS, minimalConfigName).catch(() => {});
    // Collected: it closes its servers and exits (writing its CPU profile, if asked for); otherwise it is stopped.
    if (child.exitCode === null && child.signalCode === null) {
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, 5_000);
        child.once('exit', () => {
          clearTimeout(timer);
          resolve();
        });
      });
    }
    child.kill();
    client.close();
    await plane.stop();
  }
}

const roleAt = process.argv.indexOf('--role');
const run = roleAt >= 0 && process.argv[roleAt + 1] === 'webhook' ? runWebhookProcess(JSON.parse(process.argv[roleAt + 2]!) as WebhookStart) : main();
run.catch((err: Error) => {
  process.stderr.write(`webhook-bench: ${err.stack ?? err.message}\n`);
  process.exitCode = 1;
});
