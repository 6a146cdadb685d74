// Tenant isolation wired into the explicit proxy (a real proxy on loopback):
// HTTP and CONNECT to another tenant's namespace are denied, counted and
// audited; exceptions open them; a directory reload takes effect without a
// restart; Monitor mode enforces it too (denyCrossTenant is an explicit
// switch, not a DLP finding).
import t, { type Test } from 'tap';
import http from 'node:http';
import net from 'node:net';
import { once } from 'node:events';
import { mkdtempSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { request, startTestProxy, startUpstream } from '../integration/proxy-harness';
import { waitFor } from '../envtest/wait';

const directory = (teamBTenant: string) => `apiVersion: kubedlp.io/v1alpha1
kind: TenantDirectory
namespaces:
  - {name: test-ns, tenant: test-tenant}
  - {name: team-b, tenant: ${teamBTenant}}
addresses:
  - {cidr: 127.0.0.2, namespace: team-b, kind: Service, name: api}
`;

const profile = (mode: string, exceptions = '[]') => `apiVersion: kubedlp.io/v1alpha1
kind: RenderedProfile
profile: {name: tenancy}
spec:
  mode: ${mode}
  tenancy:
    denyCrossTenant: true
    exceptions: ${exceptions}
`;

async function withDirectory(t: Test, teamBTenant: string) {
  const dir = mkdtempSync(join(tmpdir(), 'kdlp-tenants-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const path = join(dir, 'tenants.yaml');
  writeFileSync(path, directory(teamBTenant));
  return {
    path,
    rewrite(tenant: string) {
      writeFileSync(`${path}.tmp`, directory(tenant));
      renameSync(`${path}.tmp`, path);
    },
  };
}

async function connectStatus(port: number, target: string): Promise<string> {
  const sock = net.connect(port, '127.0.0.1');
  sock.write(`CONNECT ${target} HTTP/1.1\r\nHost: ${target}\r\n\r\n`);
  const [data] = (await once(sock, 'data')) as [Buffer];
  sock.destroy();
  return data.toString().split('\r\n')[0]!;
}

t.test('explicit proxy: another tenant is denied by name, by IP and through CONNECT; audited and counted', async (t) => {
  const upstream = await startUpstream();
  t.teardown(() => upstream.close());
  const dir = await withDirectory(t, 'globex');
  const proxy = await startTestProxy(profile('Protect'), { tenancy: { directoryPath: dir.path } });
  t.teardown(() => proxy.stop());

  const byName = await request(proxy.port, { path: `http://api.team-b.svc.cluster.local:${upstream.port}/x` });
  t.equal(byName.status, 403);
  t.same(byName.json().error, 'denied_cross_tenant');
  t.match(byName.json().reason, /namespace team-b belongs to tenant globex, not test-tenant/);
  const byIp = await request(proxy.port, { path: `http://127.0.0.2:${upstream.port}/x` });
  t.equal(byIp.status, 403);
  t.match(byIp.json().reason, /Service\/api 127\.0\.0\.2\/32/);
  t.equal(await connectStatus(proxy.port, 'api.team-b:443'), 'HTTP/1.1 403 Forbidden');
  const own = await request(proxy.port, { path: `http://127.0.0.1:${upstream.port}/own` });
  t.equal(own.status, 200, 'outside the directory: not a tenancy matter');
  t.same(upstream.requests.map((r) => r.url), ['/own']);

  t.equal(await proxy.metric('kubedlp_proxy_requests_total', { decision: 'denied_cross_tenant' }), 3);
  const audited = proxy.audit().filter((l) => l.decision === 'denied_cross_tenant');
  t.equal(audited.length, 3);
  t.ok(audited.every((l) => l.action === 'deny'));
  t.same(audited.map((l) => l.method), ['GET', 'GET', 'CONNECT']);
});

/** The team-b "service": a server on 127.0.0.2, which the directory maps to team-b. */
async function teamBService(t: Test): Promise<number> {
  const server = http.createServer((_req, res) => res.end('team-b'));
  server.listen(0, '127.0.0.2');
  await once(server, 'listening');
  t.teardown(() => {
    server.closeAllConnections();
    server.close();
  });
  return (server.address() as net.AddressInfo).port;
}

t.test('exceptions and a directory reload open the way without a restart', async (t) => {
  const port = await teamBService(t);
  const dir = await withDirectory(t, 'globex');
  const proxy = await startTestProxy(profile('Protect', '[{namespace: team-b}]'), {
    tenancy: { directoryPath: dir.path, watcher: { debounceMs: 10, pollIntervalMs: 50 } },
  });
  t.teardown(() => proxy.stop());
  t.equal((await request(proxy.port, { path: `http://127.0.0.2:${port}/exception` })).status, 200, 'profile exception');

  proxy.rewriteProfile(profile('Protect'));
  const url = `http://127.0.0.2:${port}/reload`;
  const answers = (status: number) => async () => (await request(proxy.port, { path: url })).status === status;
  // Wait for the profile reload to take effect (observed, not timed).
  await waitFor(answers(403), { what: 'the profile without the exception to deny team-b (403)', intervalMs: 20 });

  dir.rewrite('test-tenant');
  await waitFor(answers(200), { what: 'the directory moving team-b into our tenant to allow it (200)', intervalMs: 20 });
  t.pass('team-b moved to our tenant: allowed after the directory reload');
  t.match(proxy.logText(), /tenant directory reloaded/);
});

t.test('Monitor mode still enforces tenant isolation', async (t) => {
  const dir = await withDirectory(t, 'globex');
  const proxy = await startTestProxy(profile('Monitor'), { tenancy: { directoryPath: dir.path } });
  t.teardown(() => proxy.stop());
  t.equal((await request(proxy.port, { path: 'http://api.team-b/x' })).status, 403);
});

t.test('a broken directory at startup refuses to start; no directory fails closed for other namespaces', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'kdlp-tenants-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  writeFileSync(join(dir, 'tenants.yaml'), 'kind: nope');
  await t.rejects(startTestProxy(profile('Protect'), { tenancy: { directoryPath: join(dir, 'tenants.yaml') } }), { code: 'KDLP_TENANTS_INVALID' });

  const proxy = await startTestProxy(profile('Protect'));
  t.teardown(() => proxy.stop());
  const r = await request(proxy.port, { path: 'http://api.team-b.svc/x' });
  t.equal(r.status, 403);
  t.match(r.json().reason, /namespace team-b is not tenant test-tenant's and not shared/);
});
