// Hostile and broken input: each gets a clear status, is counted, and never
// takes the proxy down (the last test proves it still serves).
import t from 'tap';
import net from 'node:net';
import http from 'node:http';
import { gzipSync } from 'node:zlib';
import {
  curl,
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
  proxy = await startTestProxy(protectProfile(), {
    timeouts: { headersMs: 300, requestMs: 5000, timeoutCheckIntervalMs: 100, upstreamMs: 400 },
    maxHeaderBytes: 8 * 1024,
  });
});
t.teardown(async () => {
  await proxy.stop();
  await upstream.close();
});

const target = () => `127.0.0.1:${upstream.port}`;

t.test('garbage on the socket → 400, counted as malformed', async (t) => {
  const reply = await rawExchange(proxy.port, '\x16\x03\x01\x02\x00garbage-not-http\r\n\r\n');
  t.equal(statusOf(reply), 400);
  t.ok((await proxy.metric('kubedlp_bad_requests_total', { reason: 'malformed' })) >= 1);
});

t.test('oversized headers → 431', async (t) => {
  const reply = await rawExchange(proxy.port, `GET http://${target()}/ HTTP/1.1\r\nHost: ${target()}\r\nX-Big: ${'a'.repeat(16 * 1024)}\r\n\r\n`);
  t.equal(statusOf(reply), 431);
  t.equal(await proxy.metric('kubedlp_bad_requests_total', { reason: 'header_too_large' }), 1);
});

t.test('invalid chunked encoding → 400 and nothing forwarded', async (t) => {
  const before = upstream.requests.length;
  const reply = await rawExchange(
    proxy.port,
    `POST http://${target()}/c HTTP/1.1\r\nHost: ${target()}\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\nZZZ\r\nxx\r\n0\r\n\r\n`,
  );
  t.equal(statusOf(reply), 400);
  t.equal(await proxy.metric('kubedlp_bad_requests_total', { reason: 'invalid_chunked' }), 1);
  t.equal(upstream.requests.length, before);
});

t.test('Content-Length with Transfer-Encoding (smuggling) → 400', async (t) => {
  const before = upstream.requests.length;
  const reply = await rawExchange(
    proxy.port,
    `POST http://${target()}/s HTTP/1.1\r\nHost: ${target()}\r\nContent-Length: 4\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\nGET /smuggled HTTP/1.1\r\nHost: x\r\n\r\n`,
  );
  t.equal(statusOf(reply), 400);
  const reversed = await rawExchange(
    proxy.port,
    `POST http://${target()}/s HTTP/1.1\r\nHost: ${target()}\r\nTransfer-Encoding: chunked\r\nContent-Length: 4\r\n\r\n0\r\n\r\n`,
  );
  t.equal(statusOf(reversed), 400);
  t.equal(await proxy.metric('kubedlp_bad_requests_total', { reason: 'conflicting_length' }), 2);
  t.equal(upstream.requests.length, before, 'no request reached the upstream');
});

t.test('a slow client that never finishes its headers → 408', async (t) => {
  const reply = await rawExchange(proxy.port, `GET http://${target()}/ HTTP/1.1\r\nHost: ${target()}\r\nX-Slow: `, 5000);
  t.equal(statusOf(reply), 408);
  t.ok((await proxy.metric('kubedlp_bad_requests_total', { reason: 'timeout' })) >= 1);
});

t.test('origin-form request (the proxy used as a web server) → 400', async (t) => {
  const res = await request(proxy.port, { path: '/index.html', headers: { host: 'example.com' } });
  t.equal(res.status, 400);
  t.equal(res.json().error, 'origin_form');
  t.equal(await proxy.metric('kubedlp_bad_requests_total', { reason: 'origin_form' }), 1);
});

t.test('requests addressed to the proxy itself → 508', async (t) => {
  const toProxy = await request(proxy.port, { path: `http://127.0.0.1:${proxy.port}/` });
  t.equal(toProxy.status, 508);
  const toAdmin = await request(proxy.port, { path: `http://localhost:${proxy.adminPort}/metrics` });
  t.equal(toAdmin.status, 508);
  t.equal(await proxy.metric('kubedlp_bad_requests_total', { reason: 'loop' }), 2);
});

t.test('gzip bomb → blocked in Protect with the reason, never expanded', async (t) => {
  const before = upstream.requests.length;
  const bomb = gzipSync(Buffer.alloc(200 * 1024 * 1024));
  t.ok(bomb.length < 1024 * 1024, 'a small compressed body');
  const res = await request(proxy.port, {
    method: 'POST',
    path: `http://${target()}/bomb`,
    headers: { 'content-encoding': 'gzip', 'content-type': 'application/json' },
    body: bomb,
  });
  t.equal(res.status, 403);
  t.match(res.json().reason, /uninspectable content blocked by a blocking profile: .*(ratio|maxOutputBytes)/);
  t.equal(upstream.requests.length, before);
  const line = proxy.audit().find((l) => l.path === '/bomb');
  t.match(line, { decision: 'blocked', action: 'block' });
});

t.test('unsupported Content-Encoding → blocked in Protect', async (t) => {
  const res = await request(proxy.port, {
    method: 'POST',
    path: `http://${target()}/zstd`,
    headers: { 'content-encoding': 'zstd' },
    body: Buffer.from([0x28, 0xb5, 0x2f, 0xfd, 1, 2, 3]),
  });
  t.equal(res.status, 403);
  t.match(res.json().reason, /unsupported content-encoding/);
});

t.test('a body over maxBodyBytes is blocked before it is read', async (t) => {
  const before = upstream.requests.length;
  const res = await request(proxy.port, { method: 'POST', path: `http://${target()}/huge`, body: Buffer.alloc(2 * 1024 * 1024, 'x') });
  t.equal(res.status, 403);
  t.match(res.json().reason, /exceeds maxBodyBytes/);
  t.equal(upstream.requests.length, before);
});

t.test('denied destinations → 403 denied_destination', async (t) => {
  const res = await request(proxy.port, { path: 'http://denied.example/' });
  t.equal(res.status, 403);
  t.match(res.json(), { error: 'denied_destination', destination: 'denied.example:80' });
  t.equal(await proxy.metric('kubedlp_proxy_requests_total', { decision: 'denied_destination' }), 1);
});

t.test('CONNECT: denied port → 403; uninspectable tunnels denied in Protect → 403', async (t) => {
  const smtp = await rawExchange(proxy.port, 'CONNECT mail.example:25 HTTP/1.1\r\nHost: mail.example:25\r\n\r\n');
  t.equal(statusOf(smtp), 403);
  t.match(smtp, /"reason":"CONNECT tunnel denied: egress denylist/);
  const tls = await rawExchange(proxy.port, `CONNECT ${target()} HTTP/1.1\r\nHost: ${target()}\r\n\r\n`);
  t.equal(statusOf(tls), 403);
  t.match(tls, /uninspectable-denied/);
  const viaCurl = await curl(['-o', '/dev/null', '-w', '%{http_connect}', '-x', `http://127.0.0.1:${proxy.port}`, '-p', `http://${target()}/`]);
  t.equal(viaCurl.stdout, '403', 'curl sees the CONNECT refused');
});

t.test('upstream reset → 502; refused → 502; timeout → 504', async (t) => {
  upstream.behave((req) => req.socket.destroy());
  const reset = await request(proxy.port, { path: `http://${target()}/reset` });
  t.equal(reset.status, 502);
  t.equal(reset.json().error, 'upstream_failed');

  upstream.behave(() => undefined); // never answers
  const slow = await request(proxy.port, { path: `http://${target()}/slow` });
  t.equal(slow.status, 504);
  upstream.behave(undefined);

  const closed = net.createServer();
  await listen(closed, { host: '127.0.0.1', port: 0 });
  const deadPort = (closed.address() as net.AddressInfo).port;
  await new Promise<void>((r) => closed.close(() => r()));
  const refused = await request(proxy.port, { path: `http://127.0.0.1:${deadPort}/` });
  t.equal(refused.status, 502);
  t.match(refused.json().reason, /ECONNREFUSED/);
  t.ok((await proxy.metric('kubedlp_proxy_requests_total', { decision: 'error' })) >= 3);
});

t.test('a client that disconnects mid-upload does not hurt the proxy', async (t) => {
  await new Promise<void>((resolve) => {
    const req = http.request({ host: '127.0.0.1', port: proxy.port, method: 'POST', path: `http://${target()}/gone`, headers: { 'content-length': '100000' } });
    req.on('error', () => resolve());
    req.write(Buffer.alloc(2048, 'x'));
    setTimeout(() => {
      req.destroy();
      resolve();
    }, 50);
  });
});

t.test('after all that, the proxy still serves', async (t) => {
  const res = await request(proxy.port, { method: 'POST', path: `http://${target()}/ok`, body: 'fine' });
  t.equal(res.status, 200);
  const viaCurl = await curl(['-o', '/dev/null', '-w', '%{http_code}', '-x', `http://127.0.0.1:${proxy.port}`, `http://${target()}/curl`]);
  t.equal(viaCurl.stdout, '200');
});
