// `node dist/bench/transparent-bench.js` (root): what transparent capture
// costs next to explicit proxying, in one run, through real network
// namespaces (the pod/internet pair of scripts/netns/topology.ts) with the
// init-iptables redirect installed:
//   direct      — wrk as the proxy's uid (exempt from the redirect) to the upstream,
//   explicit    — wrk to a kube-dlp proxy in explicit mode (absolute-form requests),
//   transparent — wrk to the upstream address, captured into kube-dlp --mode transparent.
// Both proxies run in the pod namespace as uid 1337 with the same Protect
// profile. Each path gets a throughput run (32 connections) and a light-load
// latency run (4 connections); the last line is one JSON object.
import http from 'node:http';
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createTopology, INTERNET_V4, netnsUnavailableReason, removeStaleNamespaces, type Topology } from '../scripts/netns/topology';

const ROOT = join(__dirname, '..', '..');
const NETNS = join(ROOT, 'scripts', 'netns');
const SECONDS = Number(process.env.BENCH_WRK_SECONDS ?? 5);
const BODY = JSON.stringify({ note: 'quarterly report', rows: Array.from({ length: 20 }, (_, i) => ({ id: i, text: 'lorem ipsum dolor sit amet' })) }).slice(0, 1024);

const PROFILE = `apiVersion: kubedlp.io/v1alpha1
kind: RenderedProfile
profile: {name: bench}
spec:
  mode: Protect
  egress: {default: Allow, uninspectable: Allow}
`;

function upstreamRole(host: string, port: number): void {
  const server = http.createServer((req, res) => {
    let bytes = 0;
    req.on('data', (c: Buffer) => (bytes += c.length));
    req.on('end', () => {
      const body = `{"ok":true,"received":${bytes}}`;
      res.writeHead(200, { 'content-type': 'application/json', 'content-length': body.length });
      res.end(body);
    });
  });
  server.keepAliveTimeout = 60_000;
  process.on('SIGTERM', () => process.exit(0));
  server.listen(port, host, () => process.stdout.write('listening\n'));
}

interface WrkResult {
  rps: number;
  p50ms: number;
  p99ms: number;
  errors: number;
}

function parseWrk(out: string): WrkResult {
  const ms = (label: string): number => {
    const m = new RegExp(`^\\s*${label}%\\s+([0-9.]+)(us|ms|s)`, 'm').exec(out);
    if (!m) return NaN;
    const v = Number(m[1]);
    return m[2] === 'us' ? v / 1000 : m[2] === 's' ? v * 1000 : v;
  };
  const rps = Number(/Requests\/sec:\s+([0-9.]+)/.exec(out)?.[1] ?? NaN);
  const non2xx = Number(/Non-2xx or 3xx responses:\s+(\d+)/.exec(out)?.[1] ?? 0);
  const sock = /Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)/.exec(out);
  const errors = non2xx + (sock ? sock.slice(1).reduce((a, b) => a + Number(b), 0) : 0);
  return { rps, p50ms: ms('50'), p99ms: ms('99'), errors };
}

async function wrk(topo: Topology, url: string, script: string, connections: number, asUid?: string): Promise<WrkResult> {
  const argv = ['wrk', '-t', connections > 4 ? '2' : '1', '-c', String(connections), '-d', `${SECONDS}s`, '--latency', '-s', script, url];
  const r = await topo.run(topo.pod, asUid ? ['setpriv', `--reuid=${asUid}`, `--regid=${asUid}`, '--clear-groups', ...argv] : argv, { timeoutMs: (SECONDS + 30) * 1000 });
  if (r.code !== 0) throw new Error(`wrk failed: ${r.stderr}`);
  return parseWrk(r.stdout);
}

async function waitReady(topo: Topology, adminPort: number): Promise<void> {
  for (let i = 0; i < 600; i++) {
    const r = await topo.run(topo.pod, ['node', join(NETNS, 'app.js'), JSON.stringify({ kind: 'http', host: '127.0.0.1', port: adminPort, path: '/readyz', timeoutMs: 2000 })]);
    if (/"status":200/.test(r.stdout)) return;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error(`proxy with admin port ${adminPort} never became ready`);
}

async function main(): Promise<void> {
  const roleAt = process.argv.indexOf('--role');
  if (roleAt > 0) {
    upstreamRole(process.argv[roleAt + 1]!, Number(process.argv[roleAt + 2]));
    return;
  }
  const unavailable = await netnsUnavailableReason();
  if (unavailable) {
    console.log(`transparent bench skipped: ${unavailable}`);
    console.log(JSON.stringify({ skipped: unavailable }));
    return;
  }
  await removeStaleNamespaces();
  const topo = await createTopology('bench');
  const dir = mkdtempSync(join(tmpdir(), 'kdlp-bench-'));
  chmodSync(dir, 0o755);
  try {
    writeFileSync(join(dir, 'profile.yaml'), PROFILE, { mode: 0o644 });
    const lua = (path: string) =>
      `wrk.method = "POST"\nwrk.path = "${path}"\nwrk.body = ${JSON.stringify(BODY)}\nwrk.headers["Content-Type"] = "application/json"\n`;
    writeFileSync(join(dir, 'post.lua'), lua('/bench'), { mode: 0o644 });
    writeFileSync(join(dir, 'explicit.lua'), lua(`http://${INTERNET_V4}:8080/bench`), { mode: 0o644 });

    const upstream = topo.spawn(topo.internet, ['node', __filename, '--role', INTERNET_V4, '8080']);
    await new Promise<void>((resolve) => upstream.stdout!.once('data', () => resolve()));
    const init = await topo.run(topo.pod, ['node', join(NETNS, 'init-iptables.js'), '--proxy-port', '15001', '--proxy-uid', '1337', '--ipv6', 'off']);
    if (init.code !== 0) throw new Error(`init-iptables failed: ${init.stderr}`);
    const proxy = (mode: string, listen: string, admin: string) =>
      topo.spawn(topo.pod, [
        'setpriv', '--reuid=1337', '--regid=1337', '--clear-groups',
        'node', join(ROOT, 'bin', 'kube-dlp.js'), 'proxy', '--mode', mode, '--listen', listen, '--admin', admin,
        '--profile', join(dir, 'profile.yaml'), '--audit-log', '/dev/null',
      ]);
    proxy('transparent', '[::]:15001', '127.0.0.1:15090');
    proxy('explicit', '127.0.0.1:15002', '127.0.0.1:15091');
    await waitReady(topo, 15090);
    await waitReady(topo, 15091);

    const target = `http://${INTERNET_V4}:8080`;
    const runs = {
      direct: { load: await wrk(topo, target, join(dir, 'post.lua'), 32, '1337'), light: await wrk(topo, target, join(dir, 'post.lua'), 4, '1337') },
      explicit: { load: await wrk(topo, 'http://127.0.0.1:15002', join(dir, 'explicit.lua'), 32), light: await wrk(topo, 'http://127.0.0.1:15002', join(dir, 'explicit.lua'), 4) },
      transparent: { load: await wrk(topo, target, join(dir, 'post.lua'), 32), light: await wrk(topo, target, join(dir, 'post.lua'), 4) },
    };
    const round = (n: number) => Math.round(n * 100) / 100;
    console.log('path         req/s (32 conns)   p99 ms (32)   p99 ms (4 conns)   errors');
    for (const [name, r] of Object.entries(runs)) {
      console.log(`${name.padEnd(12)} ${String(Math.round(r.load.rps)).padStart(16)}   ${String(round(r.load.p99ms)).padStart(11)}   ${String(round(r.light.p99ms)).padStart(16)}   ${r.load.errors + r.light.errors}`);
    }
    console.log(
      JSON.stringify({
        direct_rps: Math.round(runs.direct.load.rps),
        explicit_rps: Math.round(runs.explicit.load.rps),
        transparent_rps: Math.round(runs.transparent.load.rps),
        transparent_vs_explicit_rps_ratio: round(runs.transparent.load.rps / runs.explicit.load.rps),
        direct_p50_ms_light: round(runs.direct.light.p50ms),
        explicit_p50_ms_light: round(runs.explicit.light.p50ms),
        transparent_p50_ms_light: round(runs.transparent.light.p50ms),
        direct_p99_ms_light: round(runs.direct.light.p99ms),
        explicit_added_p99_ms_light: round(runs.explicit.light.p99ms - runs.direct.light.p99ms),
        transparent_added_p99_ms_light: round(runs.transparent.light.p99ms - runs.direct.light.p99ms),
        transparent_vs_explicit_p99_ms_light: round(runs.transparent.light.p99ms - runs.explicit.light.p99ms),
        errors: Object.values(runs).reduce((n, r) => n + r.load.errors + r.light.errors, 0),
        wrk_seconds: SECONDS,
      }),
    );
  } finally {
    await topo.destroy();
    rmSync(dir, { recursive: true, force: true });
  }
}

void main().catch((err: unknown) => {
  console.error(err);
  process.exitCode = 1;
});
