// Webhook latency through a real kube-apiserver (test/envtest): rounds of 50
// concurrent pod creations in an opted-in namespace, each sent by the
// apiserver to the injection webhook on https://127.0.0.1:PORT. Reports the
// webhook's own time per admission request (TLS read to answer written:
// p50/p99, goal p99 <= 20 ms) and, as the same-run baseline, pod creation
// latency with and without the webhook in the path. The last line is JSON.
//   node dist/bench/webhook-bench.js      (KDLP_BENCH_WEBHOOK_ROUNDS, default 6)
import { randomBytes } from 'node:crypto';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { Registry } from 'prom-client';
import { getControlPlane, newNamespace } from '../test/envtest';
import { KubeClient } from '../operator/kube/client';
import { silentLogger } from '../operator/kube/logger';
import { NAMESPACES, PODS, MUTATING_WEBHOOK_CONFIGURATIONS, SECRETS } from '../operator/kube/resources';
import type { KubeObject } from '../operator/model/kube-object';
import { startInjection } from '../operator/run-injection';
import { desiredWebhookConfiguration } from '../operator/webhook/webhook-configuration';

const CONCURRENCY = 50;
const ROUNDS = Number(process.env.KDLP_BENCH_WEBHOOK_ROUNDS ?? 6);
const WARMUP_ROUNDS = 1;
const SUITE_LABEL = 'kube-dlp.test/webhook-suite';

function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!;
}

const ms = (x: number) => Math.round(x * 100) / 100;

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

async function main(): Promise<void> {
  const plane = await getControlPlane();
  // The load and the webhook use separate clients, as the apiserver's clients and the operator would.
  const client = await KubeClient.create(plane.kubeConfig, { maxSockets: CONCURRENCY });
  const operatorClient = await KubeClient.create(plane.kubeConfig);
  const suite = randomBytes(4).toString('hex');
  const configName = `kube-dlp-injector-bench-${suite}`;
  const operatorNamespace = await newNamespace(plane.kubeConfig, 'kdlp-bench-operator');
  const webhookSeconds: number[] = [];
  let recording = false;
  const injection = await startInjection({
    client: operatorClient,
    log: silentLogger,
    registry: new Registry(),
    events: { record: () => {} },
    operatorNamespace,
    image: 'registry.example/kube-dlp:bench',
    listen: { host: '127.0.0.1', port: 0 },
    webhookConfigurationName: configName,
    dnsNames: ['localhost'],
    ipAddresses: ['127.0.0.1'],
    certCheckIntervalMs: 3_600_000,
    observeRequest: (s) => {
      if (recording) webhookSeconds.push(s * 1000);
    },
  });
  try {
    const secret = await client.get<{ data: Record<string, string> }>(SECRETS, 'kube-dlp-webhook-tls', operatorNamespace);
    const config = desiredWebhookConfiguration({
      operatorNamespace,
      failurePolicy: 'Fail',
      url: `https://127.0.0.1:${injection.address.port}/inject`,
      caBundlePem: Buffer.from(secret.data['ca.crt']!, 'base64').toString('utf8'),
      name: configName,
    }) as KubeObject & { webhooks: { namespaceSelector: { matchExpressions: unknown[] } }[] };
    config.webhooks[0]!.namespaceSelector.matchExpressions.push({ key: SUITE_LABEL, operator: 'In', values: [suite] });
    await client.create(MUTATING_WEBHOOK_CONFIGURATIONS, config);

    const injected = await newNamespace(plane.kubeConfig, 'kdlp-bench-injected');
    await client.mergePatch(NAMESPACES, injected, undefined, {
      metadata: { labels: { 'kubedlp.io/injection': 'enabled', [SUITE_LABEL]: suite }, annotations: { 'kubedlp.io/inject': 'enabled' } },
    });
    const plain = await newNamespace(plane.kubeConfig, 'kdlp-bench-plain');
    // Until the apiserver has picked up the configuration, pods are created uninjected: wait for one that is.
    for (let i = 0; ; i++) {
      const p = await client.request<{ metadata: { labels?: Record<string, string> } }>('POST', `/api/v1/namespaces/${injected}/pods`, {
        query: { dryRun: 'All' },
        body: pod('probe'),
      });
      if (p.metadata.labels?.['kubedlp.io/injected'] === 'true') break;
      if (i > 300) throw new Error('the apiserver never called the webhook');
      await new Promise((r) => setTimeout(r, 100));
    }

    for (let r = 0; r < WARMUP_ROUNDS; r++) {
      await round(client, injected, `warm-${r}`);
      await round(client, plain, `warm-${r}`);
    }
    // The load generator shares this process's event loop with the webhook: its delay bounds what the webhook can do.
    const loopDelay = monitorEventLoopDelay({ resolution: 1 });
    loopDelay.enable();
    const withWebhook: number[] = [];
    const withoutWebhook: number[] = [];
    for (let r = 0; r < ROUNDS; r++) {
      // Interleaved, so both see the same apiserver and machine state.
      withoutWebhook.push(...(await round(client, plain, `r${r}`)));
      recording = true;
      withWebhook.push(...(await round(client, injected, `r${r}`)));
      recording = false;
    }
    loopDelay.disable();
    const w = [...webhookSeconds].sort((a, b) => a - b);
    const c = [...withWebhook].sort((a, b) => a - b);
    const b = [...withoutWebhook].sort((a, b) => a - b);
    process.stdout.write(`webhook: ${w.length} admission requests, ${CONCURRENCY} concurrent pod creations x ${ROUNDS} rounds\n`);
    process.stdout.write(`  webhook time      p50 ${ms(percentile(w, 50))} ms  p99 ${ms(percentile(w, 99))} ms  max ${ms(w[w.length - 1]!)} ms\n`);
process.stdout.write(`  event-loop delay  p99 ${ms(loopDelay.percentile(99) / 1e6)} ms  max ${ms(loopDelay.max / 1e6)} ms (webhook and load generator share it)\n`);
    process.stdout.write(`  create, webhook   p50 ${ms(percentile(c, 50))} ms  p99 ${ms(percentile(c, 99))} ms\n`);
    process.stdout.write(`  create, baseline  p50 ${ms(percentile(b, 50))} ms  p99 ${ms(percentile(b, 99))} ms  (no webhook in the path)\n`);
    process.stdout.write(
      `${JSON.stringify({
        bench: 'webhook',
        concurrency: CONCURRENCY,
        rounds: ROUNDS,
        requests: w.length,
        webhook_p50_ms: ms(percentile(w, 50)),
        webhook_p99_ms: ms(percentile(w, 99)),
        create_p50_ms: ms(percentile(c, 50)),
        create_p99_ms: ms(percentile(c, 99)),
        create_baseline_p50_ms: ms(percentile(b, 50)),
        create_baseline_p99_ms: ms(percentile(b, 99)),
        event_loop_delay_p99_ms: ms(loopDelay.percentile(99) / 1e6),
        goal_webhook_p99_ms: 20,
      })}\n`,
    );
  } finally {
    await client.delete(MUTATING_WEBHOOK_CONFIGURATIONS, configName).catch(() => {});
    await injection.close();
    client.close();
    operatorClient.close();
    await plane.stop();
  }
}

main().catch((err: Error) => {
  process.stderr.write(`webhook-bench: ${err.stack ?? err.message}\n`);
  process.exitCode = 1;
});
