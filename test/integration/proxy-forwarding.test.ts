// Forwarding itself: what the upstream sees (headers, path, Host, Via),
// keep-alive pooling, responses relayed as sent, CONNECT tunnels, and
// backpressure from a slow upstream reaching the client.
import t from 'tap';
import { waitFor } from '../envtest/wait';
import http from 'node:http';
import net from 'node:net';
import { createHash } from 'node:crypto';
import {
  curl,
  monitorProfile,
  protectProfile,
  rawExchange,
  request,
  startTestProxy,
  startUpstream,
  statusOf,
  type TestProxy,
  type Upstream,
} from './proxy-harness';
import { listen } from '../../proxy/http/listen';

let upstream: Upstream;
let proxy: TestProxy;
t.before(async () => {
  upstream = await startUpstream();
  proxy = await startTestProxy(protectProfile());
});
t.teardown(async () => {
  await proxy.stop();
  await upstream.close();
});

const base = () => `http://127.0.0.1:${upstream.port}`;

t.test('the upstream sees end-to-end headers, the verbatim path, its own Host, and our Via', async (t) => {
  const before = upstream.requests.length;
  const res = await request(proxy.port, {
    path: `${base()}//a//b/../c?x=1&y=%2F`,
    headers: {
      host: 'ignored.example',
      authorization: 'Bearer abc',
      'proxy-authorization': 'Basic Zm9vOmJhcg==',
      'proxy-connection': 'keep-alive',
      connection: 'keep-alive, x-hop',
      'x-hop': 'dropped',
      'x-custom': 'kept',
    },
  });
  t.equal(res.status, 200);
  t.equal(res.headers['x-upstream'], 'yes', 'response headers relayed');
  const got = upstream.requests[before];
  t.equal(got.url, '//a//b/../c?x=1&y=%2F');
  t.equal(got.headers.host, `127.0.0.1:${upstream.port}`);
  t.equal(got.headers.authorization, 'Bearer abc');
  t.equal(got.headers['x-custom'], 'kept');
  t.equal(got.headers['proxy-authorization'], undefined);
  t.equal(got.headers['proxy-connection'], undefined);
  t.equal(got.headers['x-hop'], undefined);
  t.match(got.headers.via, /^1\.1 kube-dlp-[0-9a-f]{8}$/);
});

t.test('upstream connections are pooled (keep-alive)', async (t) => {
  const before = upstream.requests.length;
  for (let i = 0; i < 5; i++) {
    // A new client connection each time: pooling is on the upstream side.
    const res = await request(proxy.port, { path: `${base()}/pool/${i}`, headers: { connection: 'close' } });
    t.equal(res.status, 200);
  }
  const sockets = new Set(upstream.requests.slice(before).map((r) => r.socketId));
  t.equal(sockets.size, 1, 'five requests over one upstream connection');
});

t.test('responses are relayed as the upstream sent them', async (t) => {
  upstream.behave((_req, res) => {
    res.writeHead(201, 'Made It', { 'set-cookie': ['a=1', 'b=2'], 'content-type': 'text/plain', connection: 'close', 'keep-alive': 'timeout=1' });
    res.end('created');
  });
  t.teardown(() => upstream.behave(undefined));
  const res = await request(proxy.port, { method: 'PUT', path: `${base()}/thing`, body: 'x' });
  t.equal(res.status, 201);
  t.same(res.headers['set-cookie'], ['a=1', 'b=2']);
  t.equal(res.body.toString(), 'created');
  t.equal(res.headers['keep-alive'], undefined, 'hop-by-hop response headers dropped');
});

t.test('curl through the proxy (HTTP_PROXY style)', async (t) => {
  const out = await curl(['-x', `http://127.0.0.1:${proxy.port}`, '-H', 'content-type: application/json', '--data', '{"hello":"world"}', `${base()}/curl`]);
  t.equal(out.code, 0);
  t.same(JSON.parse(out.stdout), { ok: true, received: 17 });
});

t.test('CONNECT in Monitor mode: tunnel works, counted and audited as uninspected', async (t) => {
  const echo = net.createServer((s) => s.pipe(s));
  await listen(echo, { host: '127.0.0.1', port: 0 });
  const echoPort = (echo.address() as net.AddressInfo).port;
  const monitor = await startTestProxy(monitorProfile());
  t.teardown(async () => {
    await monitor.stop();
    echo.close();
  });
  const reply = await new Promise<string>((resolve, reject) => {
    const socket = net.connect(monitor.port, '127.0.0.1', () => {
      socket.write(`CONNECT 127.0.0.1:${echoPort} HTTP/1.1\r\nHost: 127.0.0.1:${echoPort}\r\n\r\n`);
    });
    let buf = '';
    let sent = false;
    socket.on('data', (d) => {
      buf += d.toString();
      if (!sent && buf.includes('\r\n\r\n')) {
        sent = true;
        socket.write('ping-through-tunnel');
      }
      if (buf.includes('ping-through-tunnel')) {
        socket.end();
        resolve(buf);
      }
    });
    socket.on('error', reject);
  });
  t.match(reply, /^HTTP\/1\.1 200 Connection Established\r\n\r\nping-through-tunnel$/);
  t.equal(await monitor.metric('kubedlp_proxy_requests_total', { decision: 'uninspected' }), 1);
  t.match(monitor.audit()[0], { decision: 'uninspected', action: 'tunnel', method: 'CONNECT', destination: `127.0.0.1:${echoPort}` });
});

t.test('a slow upstream slows the client down (backpressure), and the body arrives intact', async (t) => {
  // The upstream does not read until told to.
  const gate: { open?: () => void } = {};
  const received = { bytes: 0, hash: createHash('sha256') };
  const slow = http.createServer((req, res) => {
    req.pause();
    gate.open = () => {
      req.on('data', (c: Buffer) => {
        received.bytes += c.length;
        received.hash.update(c);
      });
      req.on('end', () => res.end('done'));
      req.resume();
    };
  });
  await listen(slow, { host: '127.0.0.1', port: 0 });
  t.teardown(() => new Promise<void>((r) => slow.close(() => r())));
  const big = await startTestProxy(monitorProfile().replace('maxBodyBytes: 1048576', 'maxBodyBytes: 1073741824'));
  t.teardown(() => big.stop());

  const total = 64 * 1024 * 1024;
  const chunk = Buffer.alloc(64 * 1024);
  for (let i = 0; i < chunk.length; i++) chunk[i] = (i * 7) % 251;
  const sent = createHash('sha256');
  const req = http.request({
    host: '127.0.0.1',
    port: big.port,
    method: 'POST',
    path: `http://127.0.0.1:${(slow.address() as net.AddressInfo).port}/slow`,
    headers: { 'content-length': String(total) },
    agent: false,
  });
  const response = new Promise<string>((resolve, reject) => {
    req.on('response', (res) => {
      let text = '';
      res.on('data', (d) => (text += d));
      res.on('end', () => resolve(text));
    });
    req.on('error', reject);
  });
  let written = 0;
  const pump = async (): Promise<void> => {
    while (written < total) {
      sent.update(chunk);
      written += chunk.length;
      if (!req.write(chunk)) await new Promise((r) => req.once('drain', r));
    }
    req.end();
  };
  const pumping = pump();
  // Wait until the client stops making progress: every buffer on the way is full.
  let last = -1;
  let still = 0;
  await waitFor(
    () => {
      const now = req.socket?.bytesWritten ?? 0;
      still = now === last ? still + 1 : 0;
      last = now;
      return still >= 5;
    },
    { what: 'the client to stop making progress (five polls without a byte written)', intervalMs: 100 },
  );
  t.ok(written < total, `the client was held back (${written} of ${total} bytes accepted)`);
  t.ok(gate.open, 'the upstream got the request');
  gate.open!();
  await pumping;
  t.equal(await response, 'done');
  t.equal(received.bytes, total);
  t.equal(received.hash.digest('hex'), sent.digest('hex'), 'byte-identical after backpressure');
});

t.test('Expect: 100-continue is answered by the proxy after its pre-body checks', async (t) => {
  const before = upstream.requests.length;
  const allowed = await curl([
    '-x',
    `http://127.0.0.1:${proxy.port}`,
    '-H',
    'Expect: 100-continue',
    '--data-binary',
    'hello upstream',
    '-w',
    '\n%{http_code}',
    `${base()}/expect`,
  ]);
  t.equal(allowed.stdout.split('\n').pop(), '200');
  const got = upstream.requests[before];
  t.equal(got.body.toString(), 'hello upstream');
  t.equal(got.headers.expect, undefined, 'the proxy consumed the expectation');

  // Refused before the body: the client is told 403 instead of 100 and never sends it.
  const denied = await rawExchange(
    proxy.port,
    'POST http://denied.example/x HTTP/1.1\r\nHost: denied.example\r\nContent-Length: 5\r\nExpect: 100-continue\r\n\r\n',
  );
  t.match(denied, /^HTTP\/1\.1 403 /);
  t.notMatch(denied, /100 Continue/);
});

t.test('absolute-form without a Host header is accepted (the URL names the destination)', async (t) => {
  const reply = await rawExchange(proxy.port, `GET ${base()}/nohost HTTP/1.1\r\nConnection: close\r\n\r\n`);
  t.equal(statusOf(reply), 200);
});
