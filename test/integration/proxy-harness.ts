// Shared fixtures for the proxy integration tests: a recording upstream, a
// proxy started from a profile file with its audit log captured, and clients
// (node http through the proxy, raw sockets, curl). Everything is loopback
// on port 0.
import http from 'node:http';
import net from 'node:net';
import { execFile } from 'node:child_process';
import { mkdirSync, mkdtempSync, writeFileSync, rmSync, renameSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import type { Test } from 'tap';
import pino from 'pino';
import { startProxy, type RunningProxy, type StartProxyOptions } from '../../proxy/start-proxy';
import { listen } from '../../proxy/http/listen';
import { InterceptCa } from '../../proxy/tls/intercept-ca';

export interface RecordedRequest {
  method: string;
  url: string;
  headers: http.IncomingHttpHeaders;
  body: Buffer;
  /** The body ended normally (false: the proxy aborted it). */
  complete: boolean;
  socketId: number;
}

export type UpstreamBehaviour = (req: http.IncomingMessage, res: http.ServerResponse, body: Buffer) => void;

export interface Upstream {
  port: number;
  requests: RecordedRequest[];
  /** Resolves once `n` requests have finished arriving (complete or not). */
  waitFor(n: number): Promise<void>;
  /** Resolves once `n` requests have started arriving (headers received). */
  waitForStarted(n: number): Promise<void>;
  behave(fn: UpstreamBehaviour | undefined): void;
  close(): Promise<void>;
}

export async function startUpstream(): Promise<Upstream> {
  const requests: RecordedRequest[] = [];
  let behaviour: UpstreamBehaviour | undefined;
  let waiters: Array<{ n: number; resolve: () => void }> = [];
  let startWaiters: Array<{ n: number; resolve: () => void }> = [];
  let started = 0;
  let nextSocket = 0;
  const socketIds = new WeakMap<net.Socket, number>();
  const settle = (): void => {
    waiters = waiters.filter((w) => (requests.length >= w.n ? (w.resolve(), false) : true));
  };
  const server = http.createServer((req, res) => {
    started++;
    startWaiters = startWaiters.filter((w) => (started >= w.n ? (w.resolve(), false) : true));
    const chunks: Buffer[] = [];
    let done = false;
    const finish = (complete: boolean): void => {
      if (done) return;
      done = true;
      const body = Buffer.concat(chunks);
      requests.push({
        method: req.method ?? '',
        url: req.url ?? '',
        headers: req.headers,
        body,
        complete,
        socketId: socketIds.get(req.socket) ?? -1,
      });
      settle();
      if (!complete) return;
      if (behaviour) {
        behaviour(req, res, body);
        return;
      }
      const payload = JSON.stringify({ ok: true, received: body.length });
      res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(payload), 'x-upstream': 'yes' });
      res.end(payload);
    };
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => finish(true));
    req.on('aborted', () => finish(false));
    req.on('close', () => finish(req.complete));
    req.on('error', () => finish(false));
  });
  server.on('connection', (socket) => socketIds.set(socket, nextSocket++));
  await listen(server, { host: '127.0.0.1', port: 0 });
  return {
    port: (server.address() as net.AddressInfo).port,
    requests,
    waitFor: (n) =>
      new Promise((resolve) => {
        waiters.push({ n, resolve });
        settle();
      }),
    waitForStarted: (n) =>
      new Promise((resolve) => {
        if (started >= n) resolve();
        else startWaiters.push({ n, resolve });
      }),
    behave: (fn) => {
      behaviour = fn;
    },
    close: () =>
      new Promise((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

export interface TestProxy {
  running: RunningProxy;
  port: number;
  adminPort: number;
  profilePath: string;
  /** Audit log lines so far, parsed. */
  audit(): Record<string, unknown>[];
  /** Raw audit log text (for "the secret never appears" checks). */
  auditText(): string;
  /** Operational log text. */
  logText(): string;
  metrics(): Promise<string>;
  /** Value of one sample, e.g. metric('kubedlp_proxy_requests_total', {decision: 'blocked'}); 0 when absent. */
  metric(name: string, labels?: Record<string, string>): Promise<number>;
  /** Replace the profile file atomically (as an editor or a ConfigMap update does). */
  rewriteProfile(yaml: string): void;
  stop(): Promise<void>;
}

export async function startTestProxy(profileYaml: string, opts: Partial<StartProxyOptions> = {}): Promise<TestProxy> {
  const dir = mkdtempSync(join(tmpdir(), 'kdlp-proxy-'));
  const profilePath = join(dir, 'profile.yaml');
  writeFileSync(profilePath, profileYaml);
  const auditChunks: string[] = [];
  const logChunks: string[] = [];
  const sink = (into: string[]) =>
    new Writable({
      write(chunk, _enc, cb) {
        into.push(String(chunk));
        cb();
      },
    });
  const running = await startProxy({
    profilePath,
    listen: { host: '127.0.0.1', port: 0 },
    admin: { host: '127.0.0.1', port: 0 },
    identity: { pod: 'test-pod', namespace: 'test-ns', tenant: 'test-tenant' },
    audit: sink(auditChunks),
    logger: pino({ level: 'debug' }, sink(logChunks)),
    watcher: { debounceMs: 20, pollIntervalMs: 100 },
    ...opts,
  });
  const adminPort = running.adminAddress!.port;
  const metrics = async (): Promise<string> => (await request(adminPort, { path: '/metrics' })).body.toString();
  return {
    running,
    port: running.proxyAddress.port,
    adminPort,
    profilePath,
    audit: () =>
      auditChunks
        .join('')
        .split('\n')
        .filter((l) => l !== '')
        .map((l) => JSON.parse(l) as Record<string, unknown>),
    auditText: () => auditChunks.join(''),
    logText: () => logChunks.join(''),
    metrics,
    metric: async (name, labels = {}) => sampleValue(await metrics(), name, labels),
    rewriteProfile: (yaml) => {
      const tmp = join(dir, `.profile-${Date.now()}.tmp`);
      writeFileSync(tmp, yaml);
      renameSync(tmp, profilePath);
    },
    stop: async () => {
      await running.stop(2000);
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** Sum of the samples of `name` whose labels include `labels`. */
export function sampleValue(text: string, name: string, labels: Record<string, string> = {}): number {
  let total = 0;
  for (const line of text.split('\n')) {
    if (!line.startsWith(name)) continue;
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{[^}]*\})? ([^ ]+)$/.exec(line);
    if (!m || m[1] !== name) continue;
    const set = m[2] ?? '';
    if (Object.entries(labels).every(([k, v]) => set.includes(`${k}="${v}"`))) total += Number(m[3]);
  }
  return total;
}

export interface Reply {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: Buffer;
  json<T = Record<string, unknown>>(): T;
}

export interface RequestOptions {
  path: string;
  method?: string;
  headers?: http.OutgoingHttpHeaders;
  body?: Buffer | string;
  agent?: http.Agent | false;
}

/** An HTTP request to `port`; for the proxy, `path` is the absolute URL. */
export function request(port: number, opts: RequestOptions): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const req = http.request(
      { host: '127.0.0.1', port, method: opts.method ?? 'GET', path: opts.path, headers: opts.headers, agent: opts.agent ?? false },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => {
          const body = Buffer.concat(chunks);
          resolve({ status: res.statusCode ?? 0, headers: res.headers, body, json: () => JSON.parse(body.toString()) });
        });
        res.on('error', reject);
      },
    );
    req.on('error', reject);
    req.end(opts.body);
  });
}

export type StreamStep = Buffer | string | (() => Promise<void>);

/**
 * A chunked request whose body is written step by step: buffers are
 * written, functions are awaited in between (e.g. "until the upstream has
 * seen the request"), so tests control what was forwarded when.
 */
export function streamingRequest(port: number, path: string, steps: StreamStep[], headers: http.OutgoingHttpHeaders = {}): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const req = http.request(
      { host: '127.0.0.1', port, method: 'POST', path, agent: false, headers: { 'transfer-encoding': 'chunked', ...headers } },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => {
          const body = Buffer.concat(chunks);
          resolve({ status: res.statusCode ?? 0, headers: res.headers, body, json: () => JSON.parse(body.toString()) });
        });
      },
    );
    req.on('error', reject);
    void (async () => {
      for (const step of steps) {
        if (typeof step === 'function') await step();
        else if (!req.write(step)) await new Promise((r) => req.once('drain', r));
      }
      req.end();
    })().catch(reject);
  });
}

/** Send raw bytes and collect whatever comes back until the server closes (or `idleMs` of silence). */
export function rawExchange(port: number, bytes: Buffer | string, idleMs = 2000): Promise<string> {
  return new Promise((resolve) => {
    const socket = net.connect(port, '127.0.0.1');
    let out = '';
    let timer: NodeJS.Timeout | undefined;
    const arm = (): void => {
      clearTimeout(timer);
      timer = setTimeout(() => socket.destroy(), idleMs);
    };
    socket.on('connect', () => {
      socket.write(bytes);
      arm();
    });
    socket.on('data', (d) => {
      out += d.toString('latin1');
      arm();
    });
    socket.on('error', () => undefined);
    socket.on('close', () => {
      clearTimeout(timer);
      resolve(out);
    });
  });
}

export function statusOf(rawResponse: string): number {
  const m = /^HTTP\/1\.[01] (\d{3})/.exec(rawResponse);
  return m ? Number(m[1]) : 0;
}

/** Run curl; resolves with stdout (the -w format decides what it holds). */
export function curl(args: string[]): Promise<{ stdout: string; stderr: string; code: number }> {
  return new Promise((resolve) => {
    execFile('curl', ['-sS', '--max-time', '20', ...args], { maxBuffer: 64 * 1024 * 1024 }, (err, stdout, stderr) => {
      resolve({ stdout, stderr, code: err ? Number((err as { code?: number }).code ?? 1) : 0 });
    });
  });
}

export const PROFILE_HEADER = `apiVersion: kubedlp.io/v1alpha1
kind: SecurityProfile
metadata:
  name: test-profile
  namespace: test-ns
`;

/**
 * A Protect profile: cards block, emails redact, phone numbers monitor.
 * `extra` is appended under spec (YAML at two-space indent).
 */
export function protectProfile(extra = '', holdBackBytes = 1024): string {
  return `${PROFILE_HEADER}spec:
  mode: Protect
  detectors:
    enable: [pci.card-number, pii.email]
    overrides:
      - { id: pci.card-number, action: block }
      - { id: pii.email, action: redact }
  inspection:
    holdBackBytes: ${holdBackBytes}
    maxBodyBytes: 1048576
  egress:
    deny:
      - { host: denied.example }
      - { ports: [25] }
${extra}`;
}

export function monitorProfile(extra = '', holdBackBytes = 1024): string {
  return protectProfile(extra, holdBackBytes).replace('mode: Protect', 'mode: Monitor');
}

export const CARD = '4111 1111 1111 1111';
export const CARD_DIGITS = '4111111111111111';
export const EMAIL = 'jane.doe@acme-corp.io';

/**
 * The card and email planted by a test appear nowhere the proxy writes: not
 * in the audit log, the operational log or the metrics (`metricsText`, read
 * by the caller while the proxy runs).
 */
export function assertNoSecret(t: Test, proxy: TestProxy, metricsText: string): void {
  for (const [name, text] of [
    ['audit log', proxy.auditText()],
    ['operational log', proxy.logText()],
    ['metrics', metricsText],
  ] as const) {
    t.notOk(text.includes(CARD_DIGITS) || text.includes(CARD), `no card in the ${name}`);
    t.notOk(text.includes(EMAIL), `no email in the ${name}`);
  }
}

/**
 * A tenant interception CA as the operator mounts it: `caDir` holds tls.crt
 * and tls.key (a kubernetes.io/tls Secret), `caFile` the certificate alone
 * for clients to trust. Both in `dir`, a temporary folder removed at the
 * test's end, where callers may put more files.
 */
export async function interceptCaDir(
  t: Test,
  commonName = 'test tenant CA',
  lifetimeMs = 30 * 86_400_000,
): Promise<{ dir: string; caDir: string; caFile: string; certPem: string }> {
  const dir = mkdtempSync(join(tmpdir(), 'kdlp-intercept-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const caDir = join(dir, 'ca');
  mkdirSync(caDir);
  const ca = await InterceptCa.create({ commonName, lifetimeMs });
  writeFileSync(join(caDir, 'tls.crt'), ca.certPem);
  writeFileSync(join(caDir, 'tls.key'), ca.keyPem);
  const caFile = join(dir, 'intercept-ca.pem');
  writeFileSync(caFile, ca.certPem);
  return { dir, caDir, caFile, certPem: ca.certPem };
}
