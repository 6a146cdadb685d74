// WebSocket inside an intercepted TLS tunnel (wss:// through CONNECT), with a
// real `ws` client that trusts the interception CA and a real `ws` server
// behind HTTPS with its own private CA (given to the proxy as tls.upstreamCA).
// Client messages are inspected as over plain ws:// (a card closes the
// socket with 1008 before any of it reaches the server, an email is
// redacted, Monitor records and forwards); the handshake is held to the
// tunnel's host like any intercepted request. The same holds for a wss://
// connection captured in transparent mode (the original destination is
// given by the test here; transparent-netns.test.ts covers iptables).
import t, { type Test } from 'tap';
import http from 'node:http';
import https from 'node:https';
import net, { type AddressInfo, type Socket } from 'node:net';
import tls from 'node:tls';
import WebSocket, { WebSocketServer } from 'ws';
import { InterceptCa } from '../../proxy/tls/intercept-ca';
import type { OriginalDestination } from '../../proxy/transparent/original-destination';
import { listen } from '../../proxy/http/listen';
import { waitFor } from '../envtest/wait';
import { assertNoSecret, CARD, EMAIL, interceptCaDir, monitorProfile, protectProfile, startTestProxy } from './proxy-harness';

const DAY = 24 * 60 * 60 * 1000;

interface WssUpstream {
  port: number;
  received: string[];
  /** Per connection: the Host it was asked for, and the extensions it agreed to. */
  handshakes: Array<{ host?: string; path?: string; extensions: string }>;
  close(): Promise<void>;
}

async function wssUpstream(identity: { chainPem: string; keyPem: string }): Promise<WssUpstream> {
  const server = https.createServer({ cert: identity.chainPem, key: identity.keyPem });
  const wss = new WebSocketServer({ server, perMessageDeflate: true });
  const received: string[] = [];
  const handshakes: WssUpstream['handshakes'] = [];
  wss.on('connection', (ws, req) => {
    handshakes.push({ host: req.headers.host, path: req.url, extensions: ws.extensions });
    ws.on('message', (data) => {
      const text = Buffer.from(data as Buffer).toString();
      received.push(text);
      ws.send(`echo ${text}`);
    });
  });
  await listen(server, { host: '127.0.0.1', port: 0 });
  return {
    port: (server.address() as AddressInfo).port,
    received,
    handshakes,
    close: async () => {
      for (const c of wss.clients) c.terminate();
      await new Promise<void>((resolve) => wss.close(() => resolve()));
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

interface Setup {
  caDir: string;
  interceptCaPem: string;
  upstreamCaPem: string;
  upstream: WssUpstream;
}

async function setup(t: Test): Promise<Setup> {
  const intercept = await interceptCaDir(t);
  const upstreamCa = await InterceptCa.create({ commonName: 'private upstream CA', lifetimeMs: 30 * DAY });
  const upstream = await wssUpstream(await (await InterceptCa.load(upstreamCa)).mint('localhost'));
  t.teardown(() => upstream.close());
  return { caDir: intercept.caDir, interceptCaPem: intercept.certPem, upstreamCaPem: upstreamCa.certPem, upstream };
}

const withTls = (upstreamCaPem: string) => `  tls:
    intercept: Enabled
    upstreamCA:
      pem: |
${upstreamCaPem.trim().split('\n').map((l) => `        ${l}`).join('\n')}
`;

/** A proxy intercepting with the set-up's CA under `profile` (Protect by default), stopped at the test's end. */
async function interceptingProxy(t: Test, s: Setup, profile: (extra: string) => string = protectProfile, opts: Parameters<typeof startTestProxy>[1] = {}) {
  const proxy = await startTestProxy(profile(withTls(s.upstreamCaPem)), { intercept: { caDir: s.caDir }, ...opts });
  t.teardown(() => proxy.stop());
  return proxy;
}

/** A CONNECT tunnel through the proxy to localhost:port. */
function tunnel(proxyPort: number, port: number): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const req = http.request({ host: '127.0.0.1', port: proxyPort, method: 'CONNECT', path: `localhost:${port}` });
    req.once('connect', (res, socket) => (res.statusCode === 200 ? resolve(socket) : reject(new Error(`CONNECT answered ${res.statusCode}`))));
    req.once('error', reject);
    req.end();
  });
}

/** A `ws` client for wss://localhost:port/path over that tunnel, trusting only the interception CA. */
async function wssThroughProxy(proxyPort: number, port: number, ca: string, path = '/chat', headers: Record<string, string> = {}): Promise<WebSocket> {
  const socket = await tunnel(proxyPort, port);
  return new WebSocket(`wss://localhost:${port}${path}`, {
    headers,
    perMessageDeflate: true,
    createConnection: () => tls.connect({ socket, servername: 'localhost', ca }),
  } as WebSocket.ClientOptions);
}

function opened(ws: WebSocket): Promise<void> {
  return new Promise((resolve, reject) => {
    ws.once('open', () => resolve());
    ws.once('error', reject);
    ws.once('unexpected-response', (_req, res) => {
      let body = '';
      res.on('data', (d: Buffer) => (body += d));
      res.on('end', () => reject(Object.assign(new Error(`status ${res.statusCode}: ${body}`), { status: res.statusCode, body })));
    });
  });
}

function nextMessage(ws: WebSocket): Promise<string> {
  return new Promise((resolve, reject) => {
    ws.once('message', (data) => resolve(Buffer.from(data as Buffer).toString()));
    ws.once('close', (code) => reject(new Error(`closed with ${code} before a message`)));
  });
}

function closed(ws: WebSocket): Promise<{ code: number; reason: string }> {
  return new Promise((resolve) => ws.once('close', (code, reason) => resolve({ code, reason: reason.toString() })));
}

t.test('wss:// through interception: a benign message echoes, the upstream sees the client Host and no compression offer', async (t) => {
  const s = await setup(t);
  const proxy = await interceptingProxy(t, s);

  const ws = await wssThroughProxy(proxy.port, s.upstream.port, s.interceptCaPem);
  await opened(ws);
  const reply = nextMessage(ws);
  ws.send('hello over wss');
  t.equal(await reply, 'echo hello over wss');
  t.same(s.upstream.received, ['hello over wss']);
  t.equal(s.upstream.handshakes.length, 1);
  t.match(s.upstream.handshakes[0], { host: `localhost:${s.upstream.port}`, path: '/chat', extensions: '' }, 'permessage-deflate was negotiated away: every message is scanned as sent');
  const bye = closed(ws);
  ws.close(1000, 'done');
  t.equal((await bye).code, 1000);

  t.equal(await proxy.metric('kubedlp_tls_connections_total', { outcome: 'intercepted' }), 1);
  t.equal(await proxy.metric('kubedlp_proxy_requests_total', { decision: 'uninspected' }), 0, 'not relayed as an opaque tunnel');
});

t.test('wss:// through interception: a card in a message closes the socket with 1008 before any of it reaches the server; audited, masked', async (t) => {
  const s = await setup(t);
  const proxy = await interceptingProxy(t, s);

  const ws = await wssThroughProxy(proxy.port, s.upstream.port, s.interceptCaPem);
  await opened(ws);
  const first = nextMessage(ws);
  ws.send('before');
  t.equal(await first, 'echo before');
  const end = closed(ws);
  ws.send(`pay with ${CARD} please`);
  const { code, reason } = await end;
  t.equal(code, 1008, 'policy violation');
  t.match(reason, /blocked by data-loss policy: pci\.card-number/);
  t.same(s.upstream.received, ['before'], 'the message with the card never reached the server');

  const line = proxy.audit().find((l) => l.decision === 'blocked');
  t.ok(line, 'the block is audited');
  t.match(line, { destination: `localhost:${s.upstream.port}`, method: 'GET' });
  t.equal(await proxy.metric('kubedlp_proxy_requests_total', { decision: 'blocked' }), 1);
  assertNoSecret(t, proxy, await proxy.metrics());
});

t.test('wss:// through interception: an email in a message is redacted before the server sees it', async (t) => {
  const s = await setup(t);
  const proxy = await interceptingProxy(t, s);

  const ws = await wssThroughProxy(proxy.port, s.upstream.port, s.interceptCaPem);
  await opened(ws);
  const reply = nextMessage(ws);
  ws.send(`contact ${EMAIL} today`);
  const echoed = await reply;
  t.notOk(echoed.includes(EMAIL), 'what came back is what the server got: masked');
  t.equal(s.upstream.received.length, 1);
  t.notOk(s.upstream.received[0]!.includes(EMAIL));
  t.match(s.upstream.received[0], /^contact \S+ today$/);
  ws.terminate();
  assertNoSecret(t, proxy, await proxy.metrics());
});

t.test('wss:// through interception in Monitor: a card is recorded and forwarded', async (t) => {
  const s = await setup(t);
  const proxy = await interceptingProxy(t, s, monitorProfile);

  const ws = await wssThroughProxy(proxy.port, s.upstream.port, s.interceptCaPem);
  await opened(ws);
  const reply = nextMessage(ws);
  ws.send(`card ${CARD}`);
  t.equal(await reply, `echo card ${CARD}`, 'Monitor never changes traffic');
  const end = closed(ws);
  ws.close(1000);
  await end;
  // The connection's audit line is written when it ends.
  await waitFor(async () => proxy.audit().length > 0, { what: 'the audit line', timeoutMs: 5000, intervalMs: 20 });
  t.match(proxy.audit().at(-1), { decision: 'allowed', detectors: ['pci.card-number'], destination: `localhost:${s.upstream.port}` }, 'the card is recorded');
  assertNoSecret(t, proxy, await proxy.metrics());
});

t.test('wss:// through interception: a handshake naming another host than the tunnel is refused (421), nothing reaches the server', async (t) => {
  const s = await setup(t);
  const proxy = await interceptingProxy(t, s);

  const ws = await wssThroughProxy(proxy.port, s.upstream.port, s.interceptCaPem, '/chat', { host: 'elsewhere.example' });
  const refused = await opened(ws).then(
    () => undefined,
    (err: Error & { status?: number; body?: string }) => err,
  );
  t.equal(refused?.status, 421, String(refused?.message));
  t.match(JSON.parse(refused?.body ?? '{}'), { error: 'misdirected' });
  t.equal(s.upstream.handshakes.length, 0);
});

t.test('wss:// captured in transparent mode is intercepted the same way: echo, then a card closes with 1008', async (t) => {
  const s = await setup(t);
  const original: OriginalDestination = { address: '127.0.0.1', port: s.upstream.port, family: 4 };
  const proxy = await interceptingProxy(t, s, protectProfile, {
    mode: 'transparent',
    transparent: { readOriginal: () => original, timeouts: { sniffMs: 10_000 } },
  });

  // The client believes it talks to the upstream; its TCP lands on the proxy port, as iptables would send it.
  const ws = new WebSocket(`wss://localhost:${s.upstream.port}/captured`, {
    createConnection: () => tls.connect({ socket: net.connect(proxy.port, '127.0.0.1'), servername: 'localhost', ca: s.interceptCaPem }),
  } as WebSocket.ClientOptions);
  await opened(ws);
  const reply = nextMessage(ws);
  ws.send('hello captured');
  t.equal(await reply, 'echo hello captured');
  const end = closed(ws);
  ws.send(`card ${CARD}`);
  t.equal((await end).code, 1008);
  t.same(s.upstream.received, ['hello captured']);
  t.match(s.upstream.handshakes[0], { host: `localhost:${s.upstream.port}`, path: '/captured', extensions: '' });
  t.equal(await proxy.metric('kubedlp_tls_connections_total', { outcome: 'intercepted' }), 1);
  assertNoSecret(t, proxy, await proxy.metrics());
});
