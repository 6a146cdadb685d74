// `node --expose-gc dist/bench/observe-bench.js` (npm run bench:observe):
// what the observed-egress summary costs per request and how much memory it
// holds when full. Same-run baselines: a bare Map counter bump per request
// (the least any per-destination count could cost) and the heap before the
// summary was filled. The last line is one JSON object.
import { performance } from 'node:perf_hooks';
import { ObservedEgress, type ObservationInput } from '../proxy/observe/observed-egress';

const REQUESTS = Number(process.env.BENCH_OBSERVE_REQUESTS ?? 2_000_000);
const identity = { pod: 'bench', namespace: 'bench', tenant: 'bench' };

function inputs(destinations: number): ObservationInput[] {
  return Array.from({ length: destinations }, (_, i) => {
    const host = `svc-${i}.shard-${i % 17}.example.com`;
    return {
      destination: { host, port: 443, scheme: 'http' },
      shownDestination: `${host}:443`,
      method: i % 3 === 0 ? 'POST' : 'GET',
      decision: 'allowed',
      requestBytes: 512,
      findings: i % 10 === 0 ? [{ detector: 'pii.email', category: 'pii', severity: 'low', action: 'monitor' }] : [],
    };
  });
}

function timeIt(fn: (i: number) => void): number {
  const start = performance.now();
  for (let i = 0; i < REQUESTS; i++) fn(i);
  return (performance.now() - start) / 1000;
}

function heapUsed(): number {
  (globalThis as { gc?: () => void }).gc?.();
  return process.memoryUsage().heapUsed;
}

function main(): void {
  if (typeof (globalThis as { gc?: unknown }).gc !== 'function') console.warn('run with --expose-gc for exact memory figures');
  const set = inputs(4096);
  // Baseline: one Map bump keyed by host:port, nothing else.
  const counts = new Map<string, number>();
  const baseline = timeIt((i) => {
    const k = set[i % set.length]!.shownDestination;
    counts.set(k, (counts.get(k) ?? 0) + 1);
  });
  // Within the cap (256 destinations of the default 512): no eviction.
  const warm = new ObservedEgress(identity);
  const within = timeIt((i) => warm.record(set[i % 256]!));
  // Over the cap (4096 destinations cycling through 512 entries): evicting on every miss.
  const churn = new ObservedEgress(identity);
  const evicting = timeIt((i) => churn.record(set[i % set.length]!));

  const before = heapUsed();
  const full = new ObservedEgress(identity);
  for (const x of set) for (let r = 0; r < 4; r++) full.record(x);
  const after = heapUsed();
  const summaryBytes = Buffer.byteLength(JSON.stringify(full.summary()));
  const ns = (s: number) => Math.round((s / REQUESTS) * 1e9);
  console.log(`requests per run: ${REQUESTS}`);
  console.log(`baseline Map bump:           ${ns(baseline)} ns/request`);
  console.log(`record, within the cap:      ${ns(within)} ns/request`);
  console.log(`record, evicting every miss: ${ns(evicting)} ns/request (evicted ${churn.summary().evicted})`);
  console.log(`heap of a full summary (${full.size()} of max ${full.maxEntries} destinations): ${Math.round((after - before) / 1024)} KiB; /observed body ${Math.round(summaryBytes / 1024)} KiB`);
  console.log(
    JSON.stringify({
      bench: 'observe',
      requests: REQUESTS,
      baseline_map_ns: ns(baseline),
      record_within_cap_ns: ns(within),
      record_evicting_ns: ns(evicting),
      full_summary_heap_kib: Math.round((after - before) / 1024),
      full_summary_entries: full.size(),
      observed_body_kib: Math.round(summaryBytes / 1024),
    }),
  );
}

main();
