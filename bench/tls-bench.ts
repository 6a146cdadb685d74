// TLS interception costs, on loopback, same run, same upstream:
//   tls_rps_ratio_vs_tunnel: 1 KiB HTTPS POSTs over keep-alive connections,
//     intercepted (decrypted, inspected with the sample Protect profile,
//     re-encrypted) against a plain CONNECT tunnel (the proxy only relays);
//   tls_new_host_handshake_p99_ms: CONNECT + TLS handshake to a host whose
//     leaf is not cached yet (each sample a different IP literal 127.0.x.y,
//     each its own upstream);
//   tls_cached_handshake_p99_ms: the same to a host whose leaf is cached
//     (the upstream connection the new-host sample left idle is reused, as
//     it would be by any later client of a host; the same samples from a
//     proxy that keeps no idle upstream connections are given beside it,
//     `..._without_pool`).
// The cached-leaf handshake is also given against a Node floor in the same
// run (`..._node_floor`): a bare CONNECT answer and a TLS handshake with that
// host's cached leaf, nothing else (no policy, no upstream), which is the
// least any interceptor written on Node's TLS pays.
// Handshakes are timed by a client in its own process, as an application's
// client is: in this one it would wait for its own key exchange and chain
// verification on the proxy's thread. The same samples taken in this process
// are reported beside them (`..._same_process`), against fresh hosts.
// For the request rates the proxy, the upstream and the clients share this
// process (the proxy bench's child-process roles have no TLS upstream); both
// sides of the ratio pay the same client and upstream costs.
// Attribution, same run: tls_rps.plain_inspected is the same POSTs as plain
// HTTP through the same proxy and profile (inspection without TLS), so
// intercepted / plain_inspected is what TLS itself costs and
// plain_inspected / tunnel what inspection costs. CPU per request and per
// handshake (this process: client, proxy and upstream) are given beside the
// wall-clock numbers because, on a shared machine, they move far less with
// other load than rates and percentiles do.
import { spawn } from 'node:child_process';
import http from 'node:http';
import https from 'node:https';
import net, { type AddressInfo } from 'node:net';
import tls from 'node:tls';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import pino from 'pino';
import { startProxy, type RunningProxy } from '../proxy/start-proxy';
import { InterceptCa } from '../proxy/tls/intercept-ca';
import { LeafCache } from '../proxy/tls/leaf-cache';

const ROOT = join(__dirname, '..', '..');
const SAMPLE_PROFILE = join(ROOT, 'config', 'samples', 'securityprofile-protect.yaml');
const SECONDS = Number(process.env.BENCH_TLS_SECONDS ?? 4);
const CONNECTIONS = Number(process.env.BENCH_TLS_CONNECTIONS ?? 16);
// Samples per handshake kind: a p99 of 100 is the second-worst sample, which one scheduler hiccup decides.
const HANDSHAKE_SAMPLES = Number(process.env.BENCH_TLS_HANDSHAKES ?? 400);

export interface TlsBenchResult {
  tls_rps_ratio_vs_tunnel: number;
  tls_rps: { intercepted: number; tunnel: number; plain_inspected: number };
  /** Process CPU per request (client, proxy and upstream together). */
  tls_cpu_ms_per_request: { intercepted: number; tunnel: number; plain_inspected: number };
  /** Timed by a client in its own process. */
  tls_new_host_handshake_p99_ms: number;
  tls_cached_handshake_p99_ms: number;
  /** The same child-client samples against the Node floor (see the header): what the goal leaves for kube-dlp's own work. */
  tls_cached_handshake_p99_ms_node_floor: number;
  /** This process's CPU (proxy and upstream) per CONNECT + TLS handshake of that client. */
  tls_handshake_cpu_ms: { new_host: number; cached: number };
  /** The same child-client samples against a proxy that keeps no idle upstream connections (each handshake opens its own). */
  tls_cached_handshake_p99_ms_without_pool: number;
  tls_handshake_cpu_ms_without_pool: { new_host: number; cached: number };
  /** The same handshakes with the client in this process, on the proxy's thread. */
  tls_new_host_handshake_p99_ms_same_process: number;
  tls_cached_handshake_p99_ms_same_process: number;
  /** Process CPU per handshake, client, proxy and upstream together. */
  tls_handshake_cpu_ms_same_process: { new_host: number; cached: number };
}

interface Rate {
  rps: number;
  cpuMsPerRequest: number;
}

export async function runTlsBench(dir: string): Promise<TlsBenchResult> {
  const caDir = join(dir, 'tls-ca');
  mkdirSync(caDir, { recursive: true });
  const ca = await InterceptCa.create({ commonName: 'bench tenant CA', lifetimeMs: 86_400_000 });
  writeFileSync(join(caDir, 'tls.crt'), ca.certPem);
  writeFileSync(join(caDir, 'tls.key'), ca.keyPem);
  const upstreamCa = await InterceptCa.create({ commonName: 'bench upstream CA', lifetimeMs: 86_400_000 });
  // Fresh hosts for two rounds of samples (a child client's and this process's), all of them
  // loopback addresses (127.0.0.0/8) other than 127.0.0.1.
  const ips = Array.from({ length: 2 * HANDSHAKE_SAMPLES }, (_, i) => `127.0.${1 + Math.floor(i / 250)}.${(i % 250) + 2}`);
  const upstreamIssuer = await InterceptCa.load(upstreamCa);
  const identity = await upstreamIssuer.mint('127.0.0.1');

  // One HTTPS server, reachable on 127.0.0.1 and on every 127.0.0.x used (loopback only).
  const answer = (req: http.IncomingMessage, res: http.ServerResponse): void => {
    let bytes = 0;
    req.on('data', (c: Buffer) => (bytes += c.length));
    req.on('end', () => {
      const body = `{"ok":true,"received":${bytes}}`;
      res.writeHead(200, { 'content-type': 'application/json', 'content-length': body.length });
      res.end(body);
    });
  };
  const upstream = https.createServer({ cert: identity.chainPem, key: identity.keyPem }, answer);
  upstream.keepAliveTimeout = 60_000;
  await new Promise<void>((r) => upstream.listen(0, '127.0.0.1', r));
  const plainUpstream = http.createServer(answer);
  plainUpstream.keepAliveTimeout = 60_000;
  await new Promise<void>((r) => plainUpstream.listen(0, '127.0.0.1', r));
  const plainPort = (plainUpstream.address() as AddressInfo).port;
  const port = (upstream.address() as AddressInfo).port;
  // Each address its own upstream with a certificate for it alone, as distinct hosts have: one
  // certificate naming every address would make each upstream handshake carry hundreds of SANs.
  const aliases: https.Server[] = [];
  for (const ip of ips) {
    const own = await upstreamIssuer.mint(ip);
    const s = https.createServer({ cert: own.chainPem, key: own.keyPem, noDelay: true }, answer);
    await new Promise<void>((resolve, reject) => {
      s.once('error', reject);
      s.listen(port, ip, () => resolve());
    });
    aliases.push(s);
  }

  const sample = readFileSync(SAMPLE_PROFILE, 'utf8');
  const profile = (name: string, yaml: string) => {
    const p = join(dir, name);
    writeFileSync(p, yaml);
    return p;
  };
  const quiet = pino({ level: 'warn' }, pino.destination({ dest: join(dir, 'tls-bench.log'), sync: false }));
  const start = (profilePath: string, upstreamPool?: { maxTotal: number }) =>
    startProxy({
      profilePath,
      listen: { host: '127.0.0.1', port: 0 },
      identity: { pod: 'bench', namespace: 'bench', tenant: 'bench' },
      audit: { file: join(dir, `audit-${Date.now()}.log`) },
      logger: quiet,
      intercept: { caDir, upstreamCaFile: undefined, upstreamPool },
    });
  const interceptYaml = sample.concat(`    upstreamCA:\n      pem: |\n${upstreamCa.certPem.trim().split('\n').map((l) => `        ${l}`).join('\n')}\n`);
  const tunnelYaml = sample.replace(/^    intercept: Enabled$/m, '    intercept: Disabled').replace(/^    uninspectable: Deny$/m, '    uninspectable: Allow');
  const intercepting = await start(profile('intercept.yaml', interceptYaml));
  const tunnelling = await start(profile('tunnel.yaml', tunnelYaml));
  const withoutPool = await start(profile('intercept-without-pool.yaml', interceptYaml), { maxTotal: 0 });
  const trust = [ca.certPem, upstreamCa.certPem];
  try {
    const body = Buffer.from(JSON.stringify({ order: 'ord-1', pad: 'x'.repeat(1000) }).slice(0, 1024));
    await throughput(intercepting, port, trust, body, 1); // warm-up
    const intercepted = await throughput(intercepting, port, trust, body, SECONDS);
    await throughput(tunnelling, port, trust, body, 1);
    const tunnel = await throughput(tunnelling, port, trust, body, SECONDS);
    await plainThroughput(intercepting, plainPort, body, 1);
    const plain = await plainThroughput(intercepting, plainPort, body, SECONDS);

    const child = await childHandshakes(intercepting.proxyAddress.port, ips.slice(0, HANDSHAKE_SAMPLES), port, trust, dir);
    const floor = await nodeFloorProxy(await InterceptCa.load(ca));
    const atFloor = await childHandshakes(floor.port, ips.slice(0, HANDSHAKE_SAMPLES), port, trust, dir).finally(() => floor.close());
    // Its own leaf cache: the same hosts are new to it.
    const childWithoutPool = await childHandshakes(withoutPool.proxyAddress.port, ips.slice(0, HANDSHAKE_SAMPLES), port, trust, dir);
    const fresh: number[] = [];
    const cached: number[] = [];
    let freshCpu = 0;
    let cachedCpu = 0;
    for (const ip of ips.slice(HANDSHAKE_SAMPLES, 2 * HANDSHAKE_SAMPLES)) {
      let cpu = process.cpuUsage();
      fresh.push(await handshake(intercepting.proxyAddress.port, ip, port, trust));
      freshCpu += cpuMs(cpu);
      cpu = process.cpuUsage();
      cached.push(await handshake(intercepting.proxyAddress.port, ip, port, trust));
      cachedCpu += cpuMs(cpu);
    }
    return {
      tls_rps_ratio_vs_tunnel: round(intercepted.rps / tunnel.rps, 3),
      tls_rps: { intercepted: round(intercepted.rps, 0), tunnel: round(tunnel.rps, 0), plain_inspected: round(plain.rps, 0) },
      tls_cpu_ms_per_request: { intercepted: round(intercepted.cpuMsPerRequest, 3), tunnel: round(tunnel.cpuMsPerRequest, 3), plain_inspected: round(plain.cpuMsPerRequest, 3) },
      tls_new_host_handshake_p99_ms: round(p99(child.fresh), 2),
      tls_cached_handshake_p99_ms: round(p99(child.cached), 2),
      tls_cached_handshake_p99_ms_node_floor: round(p99(atFloor.cached), 2),
      tls_handshake_cpu_ms: { new_host: round(child.freshServerCpuMs / HANDSHAKE_SAMPLES, 2), cached: round(child.cachedServerCpuMs / HANDSHAKE_SAMPLES, 2) },
      tls_cached_handshake_p99_ms_without_pool: round(p99(childWithoutPool.cached), 2),
      tls_handshake_cpu_ms_without_pool: {
        new_host: round(childWithoutPool.freshServerCpuMs / HANDSHAKE_SAMPLES, 2),
        cached: round(childWithoutPool.cachedServerCpuMs / HANDSHAKE_SAMPLES, 2),
      },
      tls_new_host_handshake_p99_ms_same_process: round(p99(fresh), 2),
      tls_cached_handshake_p99_ms_same_process: round(p99(cached), 2),
      tls_handshake_cpu_ms_same_process: { new_host: round(freshCpu / HANDSHAKE_SAMPLES, 2), cached: round(cachedCpu / HANDSHAKE_SAMPLES, 2) },
    };
  } finally {
    await Promise.all([intercepting.stop(1000), tunnelling.stop(1000), withoutPool.stop(1000)]);
    for (const a of aliases) {
      a.closeAllConnections();
      a.close();
    }
    upstream.closeAllConnections();
    upstream.close();
    plainUpstream.closeAllConnections();
    plainUpstream.close();
  }
}

/**
 * The Node floor for a cached-leaf handshake: answer CONNECT, then terminate
 * TLS with the host's leaf, minted on its first CONNECT and kept (as the
 * sidecar's leaf cache does). No egress or tenancy decision, no audit, no
 * upstream: the handshake ends the sample.
 */
async function nodeFloorProxy(issuer: InterceptCa): Promise<{ port: number; close(): void }> {
  const leaves = new LeafCache((leaf) => tls.createSecureContext({ cert: leaf.chainPem, key: leaf.keyPem, minVersion: 'TLSv1.2' }));
  const server = net.createServer({ noDelay: true }, (socket) => {
    socket.on('error', () => socket.destroy());
    let head = Buffer.alloc(0);
    const onData = (d: Buffer): void => {
      head = Buffer.concat([head, d]);
      const end = head.indexOf('\r\n\r\n');
      if (end < 0) return;
      socket.off('data', onData);
      socket.pause();
      const host = /^CONNECT \[?([^\]\s]+?)\]?:\d+ /.exec(head.toString('latin1'))?.[1] ?? '';
      void leaves.get(issuer, host).then((secureContext) => {
        socket.write('HTTP/1.1 200 Connection Established\r\n\r\n');
        if (end + 4 < head.length) socket.unshift(head.subarray(end + 4));
        const secure = new tls.TLSSocket(socket, { isServer: true, secureContext });
        secure.on('error', () => secure.destroy());
        socket.resume();
      });
    };
    socket.on('data', onData);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    port: (server.address() as AddressInfo).port,
    close: () => {
      server.close();
    },
  };
}

// A client loads its trust store once (curl per process, a Node agent per
// agent), not per connection: building a context parses every CA again,
// which would charge the client's work to the handshake being measured.
const clientContexts = new Map<string, tls.SecureContext>();
function clientContext(ca: string[]): tls.SecureContext {
  const key = ca.join('\n');
  let context = clientContexts.get(key);
  if (!context) clientContexts.set(key, (context = tls.createSecureContext({ ca })));
  return context;
}

/** CONNECT through the proxy, then TLS to `host` inside; resolves with the open TLS socket. */
function connectThrough(proxyPort: number, host: string, port: number, ca: string[]): Promise<tls.TLSSocket> {
  return new Promise((resolve, reject) => {
    const raw = net.connect({ port: proxyPort, host: '127.0.0.1', noDelay: true }, () => raw.write(`CONNECT ${host}:${port} HTTP/1.1\r\nHost: ${host}:${port}\r\n\r\n`));
    raw.once('error', reject);
    let head = '';
    const onData = (d: Buffer): void => {
      head += d.toString('latin1');
      if (!head.includes('\r\n\r\n')) return;
      raw.off('data', onData);
      if (!head.startsWith('HTTP/1.1 200')) return reject(new Error(head.split('\r\n')[0]));
      const s = tls.connect({ socket: raw, host, servername: net.isIP(host) ? undefined : host, secureContext: clientContext(ca) });
      s.once('secureConnect', () => resolve(s));
      s.once('error', reject);
    };
    raw.on('data', onData);
  });
}

async function handshake(proxyPort: number, host: string, port: number, ca: string[]): Promise<number> {
  const t0 = performance.now();
  const s = await connectThrough(proxyPort, host, port, ca);
  const ms = performance.now() - t0;
  s.destroy();
  return ms;
}

interface ClientJob {
  proxyPort: number;
  hosts: string[];
  port: number;
  trustFile: string;
}

/** One new-host then one cached-host handshake per host, in order; what the child client prints. */
async function sampleHandshakes(job: ClientJob, onSample?: (kind: 'fresh' | 'cached') => void): Promise<{ fresh: number[]; cached: number[] }> {
  const trust = JSON.parse(readFileSync(job.trustFile, 'utf8')) as string[];
  const fresh: number[] = [];
  const cached: number[] = [];
  for (const host of job.hosts) {
    fresh.push(await handshake(job.proxyPort, host, job.port, trust));
    onSample?.('fresh');
    cached.push(await handshake(job.proxyPort, host, job.port, trust));
    onSample?.('cached');
  }
  return { fresh, cached };
}

/**
 * The handshake samples timed by a client in a child process. This
 * process's CPU (proxy and upstream) is split between new-host and cached
 * handshakes by the child announcing each sample on stdout.
 */
function childHandshakes(
  proxyPort: number,
  hosts: string[],
  port: number,
  trust: string[],
  dir: string,
): Promise<{ fresh: number[]; cached: number[]; freshServerCpuMs: number; cachedServerCpuMs: number }> {
  const trustFile = join(dir, 'client-trust.json');
  writeFileSync(trustFile, JSON.stringify(trust));
  const job: ClientJob = { proxyPort, hosts, port, trustFile };
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [__filename, '--handshake-client', JSON.stringify(job)], { stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    let freshServerCpuMs = 0;
    let cachedServerCpuMs = 0;
    let since = process.cpuUsage();
    child.stdout.on('data', (d: Buffer) => {
      out += d.toString();
      for (let nl = out.indexOf('\n'); nl >= 0; nl = out.indexOf('\n')) {
        const line = out.slice(0, nl);
        out = out.slice(nl + 1);
        if (line === 'fresh' || line === 'cached') {
          const used = cpuMs(since);
          since = process.cpuUsage();
          if (line === 'fresh') freshServerCpuMs += used;
          else cachedServerCpuMs += used;
        } else if (line.startsWith('{')) {
          const samples = JSON.parse(line) as { fresh: number[]; cached: number[] };
          resolve({ ...samples, freshServerCpuMs, cachedServerCpuMs });
        }
      }
    });
    child.once('error', reject);
    child.once('exit', (code) => {
      if (code !== 0) reject(new Error(`handshake client exited with ${code}`));
    });
  });
}

function cpuMs(since: NodeJS.CpuUsage): number {
  const used = process.cpuUsage(since);
  return (used.user + used.system) / 1000;
}

/** Requests per second over CONNECTIONS keep-alive connections, each sending one POST at a time. */
async function throughput(proxy: RunningProxy, port: number, ca: string[], body: Buffer, seconds: number): Promise<Rate> {
  const cpu = process.cpuUsage();
  const deadline = performance.now() + seconds * 1000;
  let done = 0;
  await Promise.all(
    Array.from({ length: CONNECTIONS }, async () => {
      const socket = await connectThrough(proxy.proxyAddress.port, '127.0.0.1', port, ca);
      const agent = new https.Agent({ keepAlive: true, maxSockets: 1 });
      (agent as unknown as { createConnection: () => tls.TLSSocket }).createConnection = () => socket;
      try {
        while (performance.now() < deadline) {
          await new Promise<void>((resolve, reject) => {
            const req = https.request(
              { host: '127.0.0.1', port, method: 'POST', path: '/v1/orders', agent, headers: { 'content-type': 'application/json', 'content-length': body.length } },
              (res) => {
                res.resume();
                res.on('end', () => (res.statusCode === 200 ? resolve() : reject(new Error(`status ${res.statusCode}`))));
              },
            );
            req.on('error', reject);
            req.end(body);
          });
          done++;
        }
      } finally {
        agent.destroy();
        socket.destroy();
      }
    }),
  );
  return { rps: done / seconds, cpuMsPerRequest: cpuMs(cpu) / Math.max(1, done) };
}

/** The same POSTs as plain HTTP through the proxy (absolute-form), inspected by the same profile. */
async function plainThroughput(proxy: RunningProxy, port: number, body: Buffer, seconds: number): Promise<Rate> {
  const cpu = process.cpuUsage();
  const deadline = performance.now() + seconds * 1000;
  let done = 0;
  await Promise.all(
    Array.from({ length: CONNECTIONS }, async () => {
      const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
      try {
        while (performance.now() < deadline) {
          await new Promise<void>((resolve, reject) => {
            const req = http.request(
              {
                host: '127.0.0.1',
                port: proxy.proxyAddress.port,
                method: 'POST',
                path: `http://127.0.0.1:${port}/v1/orders`,
                agent,
                headers: { host: `127.0.0.1:${port}`, 'content-type': 'application/json', 'content-length': body.length },
              },
              (res) => {
                res.resume();
                res.on('end', () => (res.statusCode === 200 ? resolve() : reject(new Error(`status ${res.statusCode}`))));
              },
            );
            req.on('error', reject);
            req.end(body);
          });
          done++;
        }
      } finally {
        agent.destroy();
      }
    }),
  );
  return { rps: done / seconds, cpuMsPerRequest: cpuMs(cpu) / Math.max(1, done) };
}

function p99(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.ceil(sorted.length * 0.99) - 1)]!;
}

function round(n: number, digits: number): number {
  const f = 10 ** digits;
  return Math.round(n * f) / f;
}

if (require.main === module && process.argv[2] === '--handshake-client') {
  const job = JSON.parse(process.argv[3]) as ClientJob;
  sampleHandshakes(job, (kind) => process.stdout.write(`${kind}\n`))
    .then((samples) => process.stdout.write(`${JSON.stringify(samples)}\n`))
    .catch((err: Error) => {
      process.stderr.write(`handshake client failed: ${err.stack ?? err.message}\n`);
      process.exitCode = 1;
    });
} else if (require.main === module) {
  const { mkdtempSync, rmSync } = require('node:fs') as typeof import('node:fs');
  const dir = mkdtempSync(join(require('node:os').tmpdir() as string, 'kdlp-tls-bench-'));
  runTlsBench(dir)
    .then((r) => process.stdout.write(`${JSON.stringify(r)}\n`))
    .catch((err: Error) => {
      process.stderr.write(`tls bench failed: ${err.stack ?? err.message}\n`);
      process.exitCode = 1;
    })
    .finally(() => rmSync(dir, { recursive: true, force: true }));
}
