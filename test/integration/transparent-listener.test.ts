// The transparent listener over loopback, with the original destination
// supplied by the test instead of SO_ORIGINAL_DST (no root, no iptables):
// the cases the namespace test cannot pin down precisely. Large and
// streamed bodies arrive intact after the sniffed bytes are replayed;
// keep-alive; server-speaks-first TCP; half-close; direct connections served
// as explicit proxy requests; unreadable original destinations; the
// name-and-address egress rules; Monitor mode.
import t, { type Test } from 'tap';
import http from 'node:http';
import net from 'node:net';
import tls from 'node:tls';
import { createHash, randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { OriginalDestinationError } from '../../proxy/transparent/errors';
import type { OriginalDestination } from '../../proxy/transparent/original-destination';
import { request, sampleValue, startTestProxy, startUpstream, type TestProxy } from './proxy-harness';

type Next = OriginalDestination | 'fail' | 'self';

/** Every accepted connection gets the destination the test set last. */
function fakeOriginal() {
  let next: Next = 'fail';
  let self: OriginalDestination | undefined;
  return {
    set(n: Next) {
      next = n;
    },
    setSelf(port: number) {
      self = { address: '127.0.0.1', port, family: 4 };
    },
    read: (): OriginalDestination => {
      if (next === 'fail') throw new OriginalDestinationError('no redirect record', 92);
      if (next === 'self') return self!;
      return next;
    },
  };
}

const profile = (spec: string) => `apiVersion: kubedlp.io/v1alpha1
kind: RenderedProfile
profile: {name: listener-test}
spec:
${spec}`;

// A client that stays silent for the whole sniff window is relayed as TCP (and HTTP it sends later is then
// uninspectable): HTTP tests use a window no loaded machine exceeds, the server-speaks-first test a short one.
async function transparentProxy(t: Test, spec: string, sniffMs = 10_000) {
  const original = fakeOriginal();
  const proxy: TestProxy = await startTestProxy(profile(spec), {
    mode: 'transparent',
    transparent: { readOriginal: original.read, timeouts: { sniffMs } },
  });
  original.setSelf(proxy.port);
  t.teardown(() => proxy.stop());
  return { proxy, original };
}

const dest = (port: number): OriginalDestination => ({ address: '127.0.0.1', port, family: 4 });

/** An HTTP request sent to the proxy port as a captured app would: origin-form, to "somewhere else". */
function captured(proxyPort: number, opts: { path: string; method?: string; headers?: http.OutgoingHttpHeaders; body?: Buffer | string; agent?: http.Agent }) {
  return request(proxyPort, { ...opts, agent: opts.agent ?? false });
}

t.test('a 2 MiB streamed body arrives intact behind the replayed head; keep-alive requests each decided', async (t) => {
  const upstream = await startUpstream();
  t.teardown(() => upstream.close());
  const { proxy, original } = await transparentProxy(t, '  mode: Protect\n  inspection: {maxBodyBytes: 8388608}\n');
  original.set(dest(upstream.port));

  // Random lower-case letters: random base64url held a Grafana token shape (`glc_` and a base64 run) in about
  // 1 run in 80, which Protect rightly blocked; letters alone form no secret or identifier the detectors know.
  const body = Buffer.from(randomBytes(2 * 1024 * 1024).map((b) => 0x61 + (b % 26))).toString('latin1');
  const r = await new Promise<number>((resolve, reject) => {
    const req = http.request({ host: '127.0.0.1', port: proxy.port, method: 'PUT', path: '/big', headers: { host: 'files.example', 'transfer-encoding': 'chunked' }, agent: false }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode ?? 0));
    });
    req.on('error', reject);
    for (let i = 0; i < body.length; i += 100_000) req.write(body.slice(i, i + 100_000));
    req.end();
  });
  t.equal(r, 200);
  const got = upstream.requests.find((x) => x.url === '/big')!;
  t.equal(createHash('sha256').update(got.body).digest('hex'), createHash('sha256').update(body).digest('hex'), 'byte-identical');
  t.equal(got.headers.host, 'files.example');

  const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
  t.teardown(() => agent.destroy());
  const a = await captured(proxy.port, { path: '/one', headers: { host: 'a.example' }, agent });
  const b = await captured(proxy.port, { path: '/two', headers: { host: 'b.example' }, agent, method: 'POST', body: `card ${'4111 1111 1111 1111'}` });
  const c = await captured(proxy.port, { path: '/three', headers: { host: 'c.example' }, agent });
  t.same([a.status, b.status, c.status], [200, 403, 200]);
  t.same(upstream.requests.map((x) => x.url), ['/big', '/one', '/three']);
  t.equal(new Set(upstream.requests.slice(1).map((x) => x.socketId)).size, 1, 'one pooled upstream connection');
});

t.test('raw TCP: server-speaks-first protocols and half-close both work', async (t) => {
  const { proxy, original } = await transparentProxy(t, '  mode: Protect\n  egress: {uninspectable: Allow}\n', 30);
  const banner = net.createServer({ allowHalfOpen: true }, (s) => {
    s.write('220 smtp.example ready\r\n');
    s.on('data', (d: Buffer) => s.end(`250 got ${d.toString().trim()}\r\n`));
  });
  banner.listen(0, '127.0.0.1');
  await once(banner, 'listening');
  t.teardown(() => banner.close());
  original.set(dest((banner.address() as net.AddressInfo).port));

  const sock = net.connect(proxy.port, '127.0.0.1');
  const [greeting] = (await once(sock, 'data')) as [Buffer];
  t.equal(greeting.toString(), '220 smtp.example ready\r\n', 'the silent client got the server greeting after the sniff timeout');
  sock.write('HELO me\r\n');
  const [reply] = (await once(sock, 'data')) as [Buffer];
  t.equal(reply.toString(), '250 got HELO me\r\n');
  sock.destroy();

  const echo = net.createServer({ allowHalfOpen: true }, (s) => {
    const chunks: Buffer[] = [];
    s.on('data', (d: Buffer) => chunks.push(d));
    s.on('end', () => s.end(`echo:${Buffer.concat(chunks).toString()}`));
  });
  echo.listen(0, '127.0.0.1');
  await once(echo, 'listening');
  t.teardown(() => echo.close());
  original.set(dest((echo.address() as net.AddressInfo).port));
  const half = net.connect({ port: proxy.port, host: '127.0.0.1', allowHalfOpen: true });
  half.end('payload after which I only listen');
  const chunks: Buffer[] = [];
  half.on('data', (d: Buffer) => chunks.push(d));
  await once(half, 'end');
  t.equal(Buffer.concat(chunks).toString(), 'echo:payload after which I only listen');
  t.equal(await proxy.metric('kubedlp_transparent_connections_total', { protocol: 'tcp' }), 2);
  t.equal(await proxy.metric('kubedlp_proxy_requests_total', { decision: 'uninspected' }), 2);
});

t.test('on client-first ports a silent client is waited for: a pooled connection stays inspectable', async (t) => {
  const upstream = await startUpstream();
  t.teardown(() => upstream.close());
  const original = fakeOriginal();
  const proxy = await startTestProxy(profile('  mode: Protect\n  egress: {uninspectable: Allow}\n'), {
    mode: 'transparent',
    transparent: { readOriginal: original.read, timeouts: { sniffMs: 20, clientFirstSniffMs: 60_000 }, clientFirstPorts: [upstream.port] },
  });
  t.teardown(() => proxy.stop());
  original.set(dest(upstream.port));
  const sock = net.connect(proxy.port, '127.0.0.1');
  await once(sock, 'connect');
  // Idle well past the ordinary sniff window, as a pre-connected pool member would be.
  await new Promise((r) => setTimeout(r, 300));
  sock.write('POST /late HTTP/1.1\r\nHost: late.example\r\nContent-Length: 24\r\nConnection: close\r\n\r\ncard 4111 1111 1111 1111');
  const chunks: Buffer[] = [];
  sock.on('data', (d: Buffer) => chunks.push(d));
  await once(sock, 'close');
  t.match(Buffer.concat(chunks).toString(), /^HTTP\/1\.1 403/, 'sniffed as HTTP and inspected, not relayed as TCP');
  t.equal(upstream.requests.length, 0);
});

t.test('connections that were not redirected', async (t) => {
  const upstream = await startUpstream();
  t.teardown(() => upstream.close());
  const { proxy, original } = await transparentProxy(t, '  mode: Protect\n');

  original.set('self');
  const explicit = await request(proxy.port, { path: `http://127.0.0.1:${upstream.port}/explicit` });
  t.equal(explicit.status, 200, 'from loopback: served as an explicit proxy request');
  t.equal(upstream.requests.at(-1)?.url, '/explicit');
  t.equal(await proxy.metric('kubedlp_transparent_connections_total', { protocol: 'explicit' }), 1);

  original.set('fail');
  const sock = net.connect(proxy.port, '127.0.0.1');
  sock.on('error', () => undefined);
  sock.write('GET / HTTP/1.1\r\nHost: x\r\n\r\n');
  await once(sock, 'close');
  t.equal(await proxy.metric('kubedlp_transparent_rejected_connections_total', { problem: 'original_dst_failed' }), 1);
  t.equal(upstream.requests.length, 1, 'nothing forwarded');
  t.match(proxy.logText(), /captured connection without an original destination/);
});

t.test('egress on name and address: a CIDR deny is not dodged by the Host header; a name allow works', async (t) => {
  const upstream = await startUpstream();
  t.teardown(() => upstream.close());
  const { proxy, original } = await transparentProxy(
    t,
    `  mode: Protect
  egress:
    default: Deny
    allow: [{host: api.allowed.example}]
    deny: [{cidr: 127.0.0.2/32}]
`,
  );
  original.set(dest(upstream.port));
  t.equal((await captured(proxy.port, { path: '/named', headers: { host: 'api.allowed.example' } })).status, 200, 'allowed by name');
  const unnamed = await captured(proxy.port, { path: '/unnamed', headers: { host: 'other.example' } });
  t.equal(unnamed.status, 403);
  t.match(unnamed.json().reason, /default-deny/);

  original.set({ address: '127.0.0.2', port: upstream.port, family: 4 });
  const denied = await captured(proxy.port, { path: '/denied', headers: { host: 'api.allowed.example' } });
  t.equal(denied.status, 403, 'the address is denied whatever the Host header says');
  t.match(denied.json().reason, /denylist \(deny\[0\] cidr=127\.0\.0\.2\/32\)/);
  t.same(upstream.requests.map((r) => r.url), ['/named']);

  const badHost = await captured(proxy.port, { path: '/x', headers: { host: 'bad host!' } });
  t.equal(badHost.status, 400);
});

t.test('TLS passthrough follows egress.uninspectable: Protect denies it unless the SNI is allowed uninspected', async (t) => {
  const { proxy, original } = await transparentProxy(
    t,
    '  mode: Protect\n  egress:\n    allow: [{host: pinned.example, allowUninspectable: true}]\n',
  );
  const tlsPort = await new Promise<number>((resolve) => {
    const s = net.createServer((c) => c.destroy());
    s.listen(0, '127.0.0.1', () => resolve((s.address() as net.AddressInfo).port));
    t.teardown(() => s.close());
  });
  original.set(dest(tlsPort));
  const attempt = (servername: string) =>
    new Promise<string>((resolve) => {
      const c = tls.connect({ host: '127.0.0.1', port: proxy.port, servername, rejectUnauthorized: false });
      c.on('error', (err: NodeJS.ErrnoException) => resolve(err.code ?? 'error'));
      c.on('close', () => resolve('closed'));
    });
  t.equal(await attempt('other.example'), 'ECONNRESET', 'reset: uninspectable and not excepted');
  const denied = proxy.audit().find((l) => l.method === 'TLS');
  t.match(denied, { decision: 'denied_destination', destination: `other.example:${tlsPort}`, reason: /uninspectable-denied/ });
  await attempt('pinned.example');
  const allowed = proxy.audit().filter((l) => l.method === 'TLS')[1];
  t.match(allowed, { decision: 'uninspected', destination: `pinned.example:${tlsPort}` });
});

t.test('Monitor mode: an egress deny of raw TCP is recorded, not enforced', async (t) => {
  const echo = net.createServer((s) => s.once('data', (d: Buffer) => s.end(`echo:${d.toString()}`)));
  echo.listen(0, '127.0.0.1');
  await once(echo, 'listening');
  t.teardown(() => echo.close());
  const port = (echo.address() as net.AddressInfo).port;
  const { proxy, original } = await transparentProxy(t, `  mode: Monitor\n  egress: {deny: [{cidr: 127.0.0.1/32, ports: [${port}]}]}\n`);
  original.set(dest(port));
  const sock = net.connect(proxy.port, '127.0.0.1');
  sock.write('hello');
  const chunks: Buffer[] = [];
  sock.on('data', (d: Buffer) => chunks.push(d));
  await once(sock, 'end');
  t.equal(Buffer.concat(chunks).toString(), 'echo:hello');
  const line = proxy.audit().find((l) => l.method === 'TCP');
  t.match(line, { decision: 'uninspected', reason: /denylist.*not enforced in Monitor mode/ });
  t.equal(sampleValue(await proxy.metrics(), 'kubedlp_proxy_requests_total', { decision: 'denied_destination' }), 0);
});
