// Issue #11 finding 7: WebSocket through the proxy with real clients (the `ws`
// package, curl for the handshake) and a real `ws` server on port 0. Benign
// messages echo; a card in a message (whole, or split over fragments) never
// reaches the server, the client gets close 1008 and an audit line is written;
// egress.websocket: Deny refuses the upgrade; prior-knowledge HTTP/2 on the
// proxy port is refused clearly (an h2c upgrade offer is declined: h2c-upgrade.test.ts).
import t from 'tap';
import http from 'node:http';
import net from 'node:net';
import WebSocket, { WebSocketServer } from 'ws';
import { CARD, CARD_DIGITS, curl, PROFILE_HEADER, rawExchange, startTestProxy, statusOf, type TestProxy } from './proxy-harness';
import { listen } from '../../proxy/http/listen';

function profile(mode: 'Protect' | 'Monitor', extraEgress = ''): string {
  return `${PROFILE_HEADER}spec:
  mode: ${mode}
  detectors:
    enable: [pci.card-number, pii.email]
    overrides:
      - { id: pci.card-number, action: block }
      - { id: pii.email, action: redact }
  inspection:
    maxBodyBytes: 65536
  egress:
    deny:
      - { host: denied.example }
${extraEgress}`;
}

interface EchoServer {
  port: number;
  received: Buffer[];
  /** Extensions the server agreed to, per connection. */
  extensions: string[];
  close(): Promise<void>;
}

async function startEchoServer(): Promise<EchoServer> {
  const server = http.createServer();
  const wss = new WebSocketServer({ server, perMessageDeflate: true });
  const received: Buffer[] = [];
  const extensions: string[] = [];
  wss.on('connection', (ws) => {
    extensions.push(ws.extensions);
    ws.on('message', (data, isBinary) => {
      received.push(Buffer.from(data as Buffer));
      ws.send(data, { binary: isBinary });
    });
  });
  await listen(server, { host: '127.0.0.1', port: 0 });
  return {
    port: (server.address() as net.AddressInfo).port,
    received,
    extensions,
    close: async () => {
      for (const c of wss.clients) c.terminate();
      await new Promise<void>((resolve) => wss.close(() => resolve()));
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

/** A `ws` client that talks to `url` through the explicit proxy (absolute-form handshake). */
function throughProxy(proxyPort: number, url: string): WebSocket {
  return new WebSocket(url, {
    createConnection: () => net.connect(proxyPort, '127.0.0.1'),
    finishRequest: (req) => {
      // An HTTP proxy is sent the absolute URL; ws would write origin-form.
      req.path = url.replace(/^ws:/, 'http:');
      req.end();
    },
  } as WebSocket.ClientOptions);
}

function opened(ws: WebSocket): Promise<void> {
  return new Promise((resolve, reject) => {
    ws.once('open', () => resolve());
    ws.once('error', reject);
    ws.once('unexpected-response', (_req, res) => reject(new Error(`status ${res.statusCode}`)));
  });
}

function nextMessage(ws: WebSocket): Promise<string> {
  return new Promise((resolve) => ws.once('message', (data) => resolve(String(data))));
}

function closed(ws: WebSocket): Promise<{ code: number; reason: string }> {
  return new Promise((resolve) => ws.once('close', (code, reason) => resolve({ code, reason: String(reason) })));
}

let echo: EchoServer;
let proxy: TestProxy;
t.before(async () => {
  echo = await startEchoServer();
  proxy = await startTestProxy(profile('Protect'));
});
t.teardown(async () => {
  await proxy.stop();
  await echo.close();
});

const url = (path = '/chat') => `ws://127.0.0.1:${echo.port}${path}`;

t.test('a benign message echoes through; permessage-deflate is negotiated away', async (t) => {
  const ws = throughProxy(proxy.port, url());
  await opened(ws);
  t.equal(ws.extensions, '', 'the client offered permessage-deflate; the proxy removed the offer');
  t.equal(echo.extensions.at(-1), '');
  ws.send('hello through the proxy');
  t.equal(await nextMessage(ws), 'hello through the proxy');
  ws.send(Buffer.from([1, 2, 3, 250]), { binary: true });
  t.same(Buffer.from(await new Promise<Buffer>((r) => ws.once('message', (d) => r(d as Buffer)))), Buffer.from([1, 2, 3, 250]));
  const big = 'x'.repeat(40_000);
  ws.send(big);
  t.equal((await nextMessage(ws)).length, big.length, 'a 40 KB message (64-bit length path) round-trips');
  const bye = closed(ws);
  ws.close(1000, 'done');
  t.equal((await bye).code, 1000);
});

t.test('a card in a message: close 1008 to the client, nothing of it upstream, audited and counted', async (t) => {
  const before = echo.received.length;
  const blockedBefore = await proxy.metric('kubedlp_proxy_requests_total', { decision: 'blocked' });
  const ws = throughProxy(proxy.port, url('/pay'));
  await opened(ws);
  ws.send('ok first');
  t.equal(await nextMessage(ws), 'ok first');
  const end = closed(ws);
  ws.send(`{"card":"${CARD}"}`);
  const { code, reason } = await end;
  t.equal(code, 1008);
  t.match(reason, /pci\.card-number/);
  t.notOk(reason.includes(CARD_DIGITS.slice(4, 12)));
  t.equal(echo.received.length, before + 1, 'only the benign message reached the server');
  t.notOk(Buffer.concat(echo.received).toString().includes('1111 1111'));
  const line = proxy.audit().at(-1) as { decision: string; detectors: string[]; reason: string; path: string };
  t.equal(line.decision, 'blocked');
  t.same(line.detectors, ['pci.card-number']);
  t.match(line.reason, /WebSocket text message/);
  t.equal(line.path, '/pay');
  t.notOk(proxy.auditText().includes(CARD_DIGITS), 'masked evidence only');
  t.equal(await proxy.metric('kubedlp_proxy_requests_total', { decision: 'blocked' }), blockedBefore + 1);
});

t.test('a card split across fragments is reassembled and blocked before any fragment is forwarded', async (t) => {
  const before = echo.received.length;
  const ws = throughProxy(proxy.port, url('/frag'));
  await opened(ws);
  const end = closed(ws);
  ws.send('card 4111 1111 ', { fin: false });
  ws.send('1111 1111 end', { fin: true });
  t.equal((await end).code, 1008);
  t.equal(echo.received.length, before);
});

t.test('an email in a message is redacted, not blocked', async (t) => {
  const ws = throughProxy(proxy.port, url('/mail'));
  await opened(ws);
  ws.send('write to jane.doe@acme-corp.io please');
  const echoed = await nextMessage(ws);
  t.notOk(echoed.includes('jane.doe@acme-corp.io'));
  t.match(echoed, /^write to \*+ please$/);
  ws.close();
});

t.test('a secret in the close reason is judged too', async (t) => {
  const ws = throughProxy(proxy.port, url('/close'));
  await opened(ws);
  const end = closed(ws);
  ws.close(1000, CARD_DIGITS);
  t.equal((await end).code, 1008);
});

t.test('curl: the handshake goes through (101); egress.websocket: Deny refuses it (403)', async (t) => {
  const handshake = [
    '-i',
    '--max-time',
    '2',
    '-x',
    `http://127.0.0.1:${proxy.port}`,
    '-H',
    'Connection: Upgrade',
    '-H',
    'Upgrade: websocket',
    '-H',
    'Sec-WebSocket-Version: 13',
    '-H',
    'Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==',
    `http://127.0.0.1:${echo.port}/curl`,
  ];
  const open = await curl(handshake);
  t.match(open.stdout, /^HTTP\/1\.1 101 /);
  t.match(open.stdout, /Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK\+xOo=/i, 'the upstream accepted the client key');

  const denying = await startTestProxy(profile('Protect', '    websocket: Deny\n'));
  t.teardown(() => denying.stop());
  const before = echo.extensions.length;
  const refused = await curl(handshake.map((a) => (a === `http://127.0.0.1:${proxy.port}` ? `http://127.0.0.1:${denying.port}` : a)));
  t.match(refused.stdout, /^HTTP\/1\.1 403 /);
  t.match(refused.stdout, /egress\.websocket: Deny/);
  const ws = throughProxy(denying.port, url());
  await t.rejects(opened(ws), /status 403/);
  t.equal(echo.extensions.length, before, 'no upgrade reached the server');
  t.equal(await denying.metric('kubedlp_proxy_requests_total', { decision: 'denied_destination' }), 2);
});

t.test('h2c: the prior-knowledge preface on the proxy port gets a GOAWAY saying why; counted', async (t) => {
  // curl ignores --http2-prior-knowledge with a proxy, so the preface is sent raw.
  const preface = Buffer.from(await rawExchange(proxy.port, 'PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n', 500), 'latin1');
  t.same([...preface.subarray(0, 9)], [0, 0, 0, 4, 0, 0, 0, 0, 0], 'an empty SETTINGS frame (server preface)');
  t.equal(preface[12], 7, 'then GOAWAY');
  t.equal(preface.readUInt32BE(9 + 9 + 4), 0xd, 'error HTTP_1_1_REQUIRED');
  t.match(preface.subarray(9 + 9 + 8).toString(), /HTTP\/2 in plaintext \(h2c\) is not inspected/);
  t.equal(await proxy.metric('kubedlp_bad_requests_total', { reason: 'http2_cleartext' }), 1);
  const other = await rawExchange(proxy.port, `GET http://127.0.0.1:${echo.port}/ HTTP/1.1\r\nHost: x\r\nConnection: Upgrade\r\nUpgrade: IRC/6.9\r\n\r\n`);
  t.equal(statusOf(other), 501);
});

t.test('Monitor: a card in a message is recorded and forwarded', async (t) => {
  const monitor = await startTestProxy(profile('Monitor'));
  t.teardown(() => monitor.stop());
  const ws = throughProxy(monitor.port, url('/m'));
  await opened(ws);
  ws.send(`card ${CARD}`);
  t.match(await nextMessage(ws), /card/);
  const end = closed(ws);
  ws.close(1000);
  await end;
  await new Promise((r) => setTimeout(r, 50));
  const line = monitor.audit().at(-1) as { decision: string; detectors: string[] };
  t.equal(line.decision, 'allowed');
  t.same(line.detectors, ['pci.card-number']);
});
