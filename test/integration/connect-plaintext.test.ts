// CONNECT tunnels that do not carry TLS, through a proxy that intercepts:
// gRPC clients with insecure channels tunnel cleartext HTTP/2 through
// grpc_proxy, `curl --proxytunnel` and proxy agents tunnel plain HTTP. Those
// are inspected like decrypted requests (bound to the CONNECT host; a card is
// refused before the upstream sees it); any other protocol is judged as
// uninspectable (refused in Protect by default, relayed and recorded in
// Monitor). Real clients (@grpc/grpc-js, curl, a raw socket) and upstreams.
import t, { type Test } from 'tap';
import http from 'node:http';
import net, { type AddressInfo, type Socket } from 'node:net';
import { execFile } from 'node:child_process';
import * as grpc from '@grpc/grpc-js';
import WebSocket, { WebSocketServer } from 'ws';
import { listen } from '../../proxy/http/listen';
import { waitFor } from '../envtest/wait';
import { callEcho, EchoClient, startEchoServer } from './grpc-echo';
import { assertNoSecret, CARD, EMAIL, interceptCaDir, monitorProfile, protectProfile, startTestProxy, type TestProxy } from './proxy-harness';

const INTERCEPT = `  tls:
    intercept: Enabled
`;

async function interceptingProxy(t: Test, yaml: string): Promise<TestProxy> {
  const { caDir } = await interceptCaDir(t, 'test tenant CA', 86_400_000);
  const proxy = await startTestProxy(yaml, { intercept: { caDir } });
  t.teardown(() => proxy.stop());
  return proxy;
}

async function httpUpstream(t: Test) {
  const seen: Array<{ url?: string; host?: string; body: string }> = [];
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks).toString();
      seen.push({ url: req.url, host: req.headers.host, body });
      res.end(`upstream got ${body.length} bytes`);
    });
  });
  await listen(server, { host: '127.0.0.1', port: 0 });
  t.teardown(() => {
    server.closeAllConnections();
    server.close();
  });
  return { port: (server.address() as AddressInfo).port, seen };
}

/** curl --proxytunnel: plain HTTP inside a CONNECT tunnel. */
function curlTunnel(proxyPort: number, url: string, args: string[] = []) {
  return new Promise<{ status: number; body: string; stderr: string }>((resolve) => {
    execFile(
      'curl',
      ['-sS', '--max-time', '10', '--proxytunnel', '-x', `http://127.0.0.1:${proxyPort}`, '-o', '-', '-w', '\n%{http_code}', ...args, url],
      { env: { PATH: process.env.PATH ?? '' } },
      (_err, stdout, stderr) => {
        const lines = stdout.split('\n');
        const status = Number(lines.pop());
        resolve({ status, body: lines.join('\n'), stderr });
      },
    );
  });
}

t.test('plain HTTP inside CONNECT (curl --proxytunnel): a card blocked, an email redacted, clean forwarded; Host bound to the tunnel', async (t) => {
  const upstream = await httpUpstream(t);
  const proxy = await interceptingProxy(t, protectProfile(INTERCEPT));
  const base = `http://localhost:${upstream.port}`;

  const blocked = await curlTunnel(proxy.port, `${base}/v1/charge`, ['-d', JSON.stringify({ card: CARD })]);
  t.equal(blocked.status, 403, blocked.stderr);
  t.match(JSON.parse(blocked.body), { error: 'blocked', detectors: ['pci.card-number'] });
  const redacted = await curlTunnel(proxy.port, `${base}/v1/tickets`, ['-d', `contact ${EMAIL} please`]);
  t.equal(redacted.status, 200, redacted.stderr);
  const clean = await curlTunnel(proxy.port, `${base}/health`);
  t.equal(clean.body, 'upstream got 0 bytes');
  const misdirected = await curlTunnel(proxy.port, `${base}/x`, ['-H', 'Host: elsewhere.example']);
  t.equal(misdirected.status, 421, 'a Host naming another authority than the CONNECT is refused');

  t.equal(upstream.seen.length, 2, 'neither the blocked nor the misdirected request reached the upstream');
  t.match(upstream.seen[0], { url: '/v1/tickets', host: `localhost:${upstream.port}` });
  t.notOk(upstream.seen[0]!.body.includes(EMAIL), 'the email was redacted before the upstream saw it');
  t.equal(await proxy.metric('kubedlp_tls_connections_total', { outcome: 'not_tls' }), 4, 'counted as tunnels that are not TLS');
  t.equal(await proxy.metric('kubedlp_proxy_requests_total', { decision: 'uninspected' }), 0, 'nothing went through opaque');
  assertNoSecret(t, proxy, await proxy.metrics());
});

t.test('gRPC with an insecure channel through grpc_proxy (h2c in CONNECT): served, and a card refused with PERMISSION_DENIED', async (t) => {
  const { port, handled } = await startEchoServer(t, grpc.ServerCredentials.createInsecure());
  const proxy = await interceptingProxy(t, protectProfile(INTERCEPT));

  // grpc-js reaches the proxy by CONNECT when grpc_proxy is set, then speaks cleartext HTTP/2 inside.
  const savedProxy = process.env.grpc_proxy;
  process.env.grpc_proxy = `http://127.0.0.1:${proxy.port}`;
  t.teardown(() => {
    if (savedProxy === undefined) delete process.env.grpc_proxy;
    else process.env.grpc_proxy = savedProxy;
  });
  const client = new EchoClient(`localhost:${port}`, grpc.credentials.createInsecure());
  t.teardown(() => client.close());
  const ok = await callEcho(client, Buffer.from('hello through the tunnel'));
  t.equal(ok.error, undefined, String(ok.error?.message));
  t.equal(ok.reply?.toString(), `echo: ${'hello through the tunnel'.length} bytes`);
  const blocked = await callEcho(client, Buffer.from(`{"card":"${CARD}"}`));
  t.equal(blocked.error?.code, grpc.status.PERMISSION_DENIED, String(blocked.error?.message));
  t.match(blocked.error?.details, /pci\.card-number/);
  t.same(handled, ['hello through the tunnel'], 'the handler never ran for the refused call');
  t.match(proxy.audit().find((l) => l.decision === 'blocked'), { destination: `localhost:${port}`, method: 'POST' });
  assertNoSecret(t, proxy, await proxy.metrics());
});

t.test('ws:// inside CONNECT (a proxy agent tunnelling a WebSocket): messages inspected, a card closes it with 1008', async (t) => {
  const server = http.createServer();
  const wss = new WebSocketServer({ server });
  const received: string[] = [];
  wss.on('connection', (ws) => ws.on('message', (data) => {
    received.push(String(data));
    ws.send(`echo ${String(data)}`);
  }));
  await listen(server, { host: '127.0.0.1', port: 0 });
  t.teardown(() => {
    for (const c of wss.clients) c.terminate();
    server.close();
  });
  const port = (server.address() as AddressInfo).port;
  const proxy = await interceptingProxy(t, protectProfile(INTERCEPT));

  const socket = await new Promise<Socket>((resolve, reject) => {
    const req = http.request({ host: '127.0.0.1', port: proxy.port, method: 'CONNECT', path: `localhost:${port}` });
    req.once('connect', (_res, s: Socket) => resolve(s));
    req.once('error', reject);
    req.end();
  });
  const ws = new WebSocket(`ws://localhost:${port}/chat`, { createConnection: () => socket } as WebSocket.ClientOptions);
  await new Promise<void>((resolve, reject) => {
    ws.once('open', () => resolve());
    ws.once('error', reject);
  });
  const reply = new Promise<string>((resolve) => ws.once('message', (d) => resolve(String(d))));
  ws.send('hello through the tunnel');
  t.equal(await reply, 'echo hello through the tunnel');
  const closed = new Promise<number>((resolve) => ws.once('close', (code) => resolve(code)));
  ws.send(`card ${CARD}`);
  t.equal(await closed, 1008);
  t.same(received, ['hello through the tunnel'], 'the card never reached the server');
  assertNoSecret(t, proxy, await proxy.metrics());
});

async function lineEchoServer(t: Test) {
  const received: string[] = [];
  const server = net.createServer((s) => {
    s.on('data', (d: Buffer) => {
      received.push(d.toString());
      s.write(`echo ${d.toString()}`);
    });
  });
  await listen(server, { host: '127.0.0.1', port: 0 });
  t.teardown(() => server.close());
  return { port: (server.address() as AddressInfo).port, received };
}

/** CONNECT, then `payload` as the tunnel's first bytes; resolves with what came back once the tunnel closed or `enough` says so (10 s at most). */
function rawTunnel(proxyPort: number, port: number, payload: string, enough: (reply: string) => boolean = () => false): Promise<{ reply: string; closed: boolean }> {
  return new Promise((resolve) => {
    const req = http.request({ host: '127.0.0.1', port: proxyPort, method: 'CONNECT', path: `localhost:${port}` });
    req.once('connect', (_res, socket: Socket) => {
      let reply = '';
      let closed = false;
      const finish = (): void => {
        clearTimeout(timer);
        socket.destroy();
        resolve({ reply, closed });
      };
      const timer = setTimeout(finish, 10_000);
      socket.on('data', (d: Buffer) => {
        reply += d.toString();
        if (enough(reply)) finish();
      });
      socket.on('error', () => undefined);
      socket.once('close', () => {
        closed = true;
        finish();
      });
      socket.write(payload);
    });
    req.end();
  });
}

t.test('another protocol inside an intercepting CONNECT: Protect closes it (uninspectable), Monitor relays and records it', async (t) => {
  const echo = await lineEchoServer(t);
  const protect = await interceptingProxy(t, protectProfile(INTERCEPT));
  // Lower case: no HTTP method token (an upper-case word and a space would be read, and refused, as HTTP).
  const refused = await rawTunnel(protect.port, echo.port, 'hello server\r\n');
  t.ok(refused.closed, 'the tunnel is closed');
  t.equal(refused.reply, '');
  // (The server may see the start of a TLS handshake: the proxy opens its upstream TLS while the client's first bytes are on their way.)
  t.notOk(echo.received.some((r) => r.includes('hello')), 'none of the payload reached the server');
  await waitFor(async () => protect.audit().some((l) => l.decision === 'denied_destination'), { what: 'the refusal audited', timeoutMs: 5000, intervalMs: 20 });
  t.match(protect.audit().find((l) => l.decision === 'denied_destination'), { reason: /neither TLS nor HTTP.*cannot be inspected/ });

  const monitor = await interceptingProxy(t, monitorProfile(INTERCEPT));
  const relayed = await rawTunnel(monitor.port, echo.port, 'hello again\r\n', (reply) => reply.endsWith('\r\n'));
  t.equal(relayed.reply, 'echo hello again\r\n', 'Monitor never breaks the tunnel');
  await waitFor(async () => (await monitor.metric('kubedlp_proxy_requests_total', { decision: 'uninspected' })) === 1, { what: 'counted uninspected', timeoutMs: 5000, intervalMs: 20 });
});
