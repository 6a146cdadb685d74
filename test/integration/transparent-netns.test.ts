// Transparent mode end to end, with real parts: a "pod" network namespace
// with the init-iptables redirect, the proxy running inside it as uid 1337
// (`kube-dlp proxy --mode transparent`), an app that knows nothing about the
// proxy, and a recording "internet" namespace behind a veth. Proves that
// HTTP (by IP, by name, IPv6), raw TCP and TLS all reach the proxy and
// nothing bypasses it; a card number is blocked; cross-tenant service IPs
// and names are denied while the same tenant's are allowed; TLS origination
// verifies the upstream; TLS interception (tls.intercept) terminates
// iptables-captured TLS from curl trusting the tenant CA, with a card
// blocked inside it while a bypassed host passes through; and the proxy's
// own upstream connections are not looped back into it.
import t from 'tap';
import { chmodSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { once } from 'node:events';
import { join } from 'node:path';
import {
  createTopology,
  INTERNET_V4,
  INTERNET_V6,
  POD_V4,
  netnsUnavailableReason,
  removeStaleNamespaces,
  type Topology,
} from '../../scripts/netns/topology';
import { watchJsonLines, type JsonLineWatcher } from '../../scripts/netns/json-lines';
import { createTestPki } from '../../scripts/netns/test-pki';
import { PROXY_UID, unprivileged } from '../../scripts/netns/unprivileged';
import { InterceptCa } from '../../proxy/tls/intercept-ca';
import { sampleValue } from './proxy-harness';
import { waitFor } from '../envtest/wait';

const ROOT = join(__dirname, '..', '..');
const NETNS = join(ROOT, 'scripts', 'netns');
const SAME_TENANT_SVC = '10.213.1.10';
const OTHER_TENANT_SVC = '10.213.2.10';
const CARD = '4111 1111 1111 1111';

type Line = Record<string, any>;

const tenants = `apiVersion: kubedlp.io/v1alpha1
kind: TenantDirectory
version: "1"
clusterNetworks: [10.213.1.0/24, 10.213.2.0/24]
namespaces:
  - {name: team-a, tenant: acme}
  - {name: team-a2, tenant: acme}
  - {name: team-b, tenant: globex}
addresses:
  - {cidr: ${SAME_TENANT_SVC}, namespace: team-a2, kind: Service, name: api}
  - {cidr: ${OTHER_TENANT_SVC}, namespace: team-b, kind: Service, name: api}
`;

const profile = (caFile: string) => `apiVersion: kubedlp.io/v1alpha1
kind: RenderedProfile
profile: {name: transparent-e2e, tenant: acme}
spec:
  mode: Protect
  egress:
    default: Allow
    uninspectable: Allow
    deny:
      - {cidr: ${INTERNET_V4}/32, ports: [7001]}
  tenancy:
    denyCrossTenant: true
  tls:
    intercept: Enabled
    bypass: [tls.test]
  tlsOrigination:
    hosts:
      - {host: tls.test, port: 8443, caBundleFile: ${caFile}}
      - {host: bad-cert.test, port: 9443, caBundleFile: ${caFile}}
`;

async function main(): Promise<void> {
  const unavailable = await netnsUnavailableReason();
  if (unavailable) {
    t.comment(`SKIPPING transparent-mode namespace tests: ${unavailable}`);
    t.test('network namespace tests', { skip: `network namespaces unavailable: ${unavailable}` }, async () => undefined);
    return;
  }
  await removeStaleNamespaces();
  const topo = await createTopology('tp', { serviceAddresses: [SAME_TENANT_SVC, OTHER_TENANT_SVC] });
  t.teardown(() => topo.destroy());
  const pki = createTestPki();
  t.teardown(() => pki.remove());
  const good = pki.server('tls.test');
  const wrong = pki.server('wrong.test');
  const inspected = pki.server('inspected.test');

  const dir = mkdtempSync(join(tmpdir(), 'kdlp-tp-'));
  chmodSync(dir, 0o755);
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  writeFileSync(join(dir, 'profile.yaml'), profile(pki.caFile), { mode: 0o644 });
  writeFileSync(join(dir, 'tenants.yaml'), tenants, { mode: 0o644 });
  // The tenant CA as the operator mounts it (a kubernetes.io/tls Secret), readable by the proxy's uid here.
  const tenantCa = await InterceptCa.create({ commonName: 'netns tenant CA', lifetimeMs: 86_400_000 });
  mkdirSync(join(dir, 'intercept-ca'), { mode: 0o755 });
  writeFileSync(join(dir, 'intercept-ca', 'tls.crt'), tenantCa.certPem, { mode: 0o644 });
  writeFileSync(join(dir, 'intercept-ca', 'tls.key'), tenantCa.keyPem, { mode: 0o644 });
  const tenantCaFile = join(dir, 'tenant-ca.pem');
  writeFileSync(tenantCaFile, tenantCa.certPem, { mode: 0o644 });

  const upstream = watchJsonLines<Line>(
    topo.spawn(topo.internet, [
      'node',
      join(NETNS, 'upstream.js'),
      JSON.stringify({
        http: [
          { name: 'web', host: INTERNET_V4, port: 8080 },
          { name: 'web6', host: INTERNET_V6, port: 8080 },
          { name: 'same-tenant', host: SAME_TENANT_SVC, port: 8080 },
          { name: 'other-tenant', host: OTHER_TENANT_SVC, port: 8080 },
        ],
        h2c: [{ name: 'h2c', host: INTERNET_V4, port: 8081 }],
        https: [
          { name: 'tls', host: INTERNET_V4, port: 8443, cert: good.cert, key: good.key },
          { name: 'wrong-cert', host: INTERNET_V4, port: 9443, cert: wrong.cert, key: wrong.key },
          { name: 'inspected', host: INTERNET_V4, port: 10443, cert: inspected.cert, key: inspected.key },
        ],
        tcp: [
          { name: 'raw', host: INTERNET_V4, port: 7000 },
          { name: 'raw-denied', host: INTERNET_V4, port: 7001 },
          { name: 'raw-other-tenant', host: OTHER_TENANT_SVC, port: 7000 },
        ],
      }),
    ]),
  );
  await upstream.waitFor((l) => l.event === 'listening', 'upstream listening');

  const init = await topo.run(topo.pod, ['node', join(NETNS, 'init-iptables.js'), '--proxy-port', '15001', '--proxy-uid', String(PROXY_UID), '--ipv6', 'on']);
  if (init.code !== 0) throw new Error(`init-iptables failed: ${init.stderr}`);

  const asProxy = unprivileged(ROOT);
  t.teardown(() => asProxy.remove());
  await asProxy.probe(join(ROOT, 'dist', 'cli', 'main.js'));
  const proxyProcess = topo.spawn(topo.pod, asProxy.argv([
      'node', asProxy.path(join(ROOT, 'bin', 'kube-dlp.js')), 'proxy',
      '--mode', 'transparent',
      '--profile', join(dir, 'profile.yaml'),
      '--tenant-directory', join(dir, 'tenants.yaml'),
      '--namespace', 'team-a', '--tenant', 'acme', '--pod', 'app-0',
      '--admin', '127.0.0.1:15090',
      '--intercept-ca-dir', join(dir, 'intercept-ca'),
      '--upstream-ca-file', pki.caFile,
      // Every client here speaks first; a long window keeps a loaded machine from relaying HTTP as plain TCP.
      '--sniff-timeout', '10',
  ]));
  const proxy = watchJsonLines<Line>(proxyProcess);
  const app = (action: object) => runApp(topo, action);
  await waitReady(app, proxy);

  const arrivalsSince = (n: number) => upstream.lines.slice(n).filter((l) => l.event !== 'listening');
  /** Sends an allowed request afterwards and waits for it: anything the earlier request leaked would have arrived first. */
  const settle = async (tag: string) => {
    const r = await app({ kind: 'http', host: INTERNET_V4, port: 8080, path: `/marker-${tag}` });
    if (r.status !== 200) throw new Error(`marker request failed: ${JSON.stringify(r)}`);
    await upstream.waitFor((l) => l.url === `/marker-${tag}`, `marker ${tag}`);
  };
  const audit = (pred: (l: Line) => boolean, what: string) => proxy.waitFor((l) => l.requestId !== undefined && pred(l), what);

  await t.test('HTTP by IP goes through the proxy, inspected and forwarded', async (t) => {
    const r = await app({ kind: 'http', host: INTERNET_V4, port: 8080, method: 'POST', path: '/upload?x=1', body: 'quarterly numbers' });
    t.equal(r.status, 200);
    const seen = await upstream.waitFor((l) => l.url === '/upload?x=1', 'upload');
    t.match(seen.via, /kube-dlp-/, 'the Via header shows the proxy forwarded it');
    t.equal(seen.body, 'quarterly numbers');
    t.equal(seen.host, `${INTERNET_V4}:8080`);
  });

  await t.test('HTTP by name: the Host header names the destination, the captured address is used', async (t) => {
    const r = await app({ kind: 'http', host: INTERNET_V4, port: 8080, path: '/by-name', headers: { host: 'api.example.test' } });
    t.equal(r.status, 200);
    const seen = await upstream.waitFor((l) => l.url === '/by-name', 'by-name');
    t.equal(seen.host, 'api.example.test', 'Host passed on unchanged');
    t.match(seen.via, /kube-dlp-/);
  });

  await t.test('IPv6 egress is captured too', async (t) => {
    const r = await app({ kind: 'http', host: INTERNET_V6, port: 8080, path: '/v6' });
    t.equal(r.status, 200);
    const seen = await upstream.waitFor((l) => l.url === '/v6', 'v6');
    t.equal(seen.name, 'web6');
    t.match(seen.via, /kube-dlp-/);
  });

  await t.test('a card number exfiltration is blocked and never leaves the pod', async (t) => {
    const before = upstream.lines.length;
    const r = await app({ kind: 'http', host: INTERNET_V4, port: 8080, method: 'POST', path: '/exfil', headers: { host: 'paste.example.test', 'content-type': 'text/plain' }, body: `dump: ${CARD}` });
    t.equal(r.status, 403);
    t.equal(JSON.parse(r.body).error, 'blocked');
    const line = await audit((l) => l.decision === 'blocked', 'blocked audit line');
    t.equal(line.destination, 'paste.example.test:8080');
    t.match(JSON.stringify(line.evidence), /4111[ *]+1111/, 'masked evidence only');
    await settle('exfil');
    t.same(arrivalsSince(before).map((l) => l.url), ['/marker-exfil']);
  });

  await t.test('cleartext HTTP/2 (h2c, as plaintext gRPC opens) is captured and inspected stream by stream', async (t) => {
    const curl = (path: string, args: string[] = []) =>
      topo.run(topo.pod, ['curl', '-sS', '--max-time', '20', '--http2-prior-knowledge', '-o', '-', '-w', '\n%{http_version} %{http_code}', ...args, `http://${INTERNET_V4}:8081${path}`]);
    const ok = await curl('/h2c-ok', ['-d', 'quarterly numbers']);
    t.match(ok.stdout, /\n2 200$/, ok.stderr);
    const seen = await upstream.waitFor((l) => l.url === '/h2c-ok', 'h2c request');
    t.equal(seen.httpVersion, '2.0', 'HTTP/2 all the way');
    t.match(seen.via, /kube-dlp/, 'through the proxy');

    const before = upstream.lines.length;
    const blocked = await curl('/h2c-exfil', ['-d', `dump: ${CARD}`]);
    t.match(blocked.stdout, /\n2 403$/, blocked.stderr);
    const line = await audit((l) => l.decision === 'blocked' && l.path === '/h2c-exfil', 'h2c blocked audit line');
    t.equal(line.destination, `${INTERNET_V4}:8081`);
    await settle('h2c');
    t.same(arrivalsSince(before).map((l) => l.url), ['/marker-h2c'], 'the card never left the pod');
  });

  await t.test('raw TCP is relayed opaquely, allowed or denied by destination, and counted', async (t) => {
    const r = await app({ kind: 'tcp', host: INTERNET_V4, port: 7000, send: 'ping' });
    t.equal(r.received, 'echo:ping');
    t.equal((await upstream.waitFor((l) => l.name === 'raw', 'raw tcp')).data, 'ping');
    const allowed = await audit((l) => l.method === 'TCP' && l.decision === 'uninspected', 'tcp audit');
    t.equal(allowed.destination, `${INTERNET_V4}:7000`);

    const before = upstream.lines.length;
    const denied = await app({ kind: 'tcp', host: INTERNET_V4, port: 7001, send: 'secret' });
    t.ok(denied.error === 'ECONNRESET' || denied.received === '', `refused: ${JSON.stringify(denied)}`);
    await audit((l) => l.method === 'TCP' && l.decision === 'denied_destination', 'tcp deny audit');
    await settle('tcp');
    t.same(arrivalsSince(before).map((l) => l.url ?? l.name), ['/marker-tcp']);
  });

  await t.test('TLS passthrough: SNI names the destination, the payload stays end-to-end encrypted', async (t) => {
    const r = await app({ kind: 'https', host: INTERNET_V4, port: 8443, servername: 'tls.test', ca: pki.caFile, path: '/passthrough' });
    t.equal(r.status, 200, JSON.stringify(r));
    const seen = await upstream.waitFor((l) => l.url === '/passthrough', 'passthrough');
    t.equal(seen.servername, 'tls.test');
    t.equal(seen.via, undefined, 'not terminated: the proxy could not add a header');
    const line = await audit((l) => l.method === 'TLS' && l.decision === 'uninspected', 'tls audit');
    t.equal(line.destination, 'tls.test:8443');
  });

  await t.test('TLS interception: captured HTTPS from curl trusting the tenant CA is decrypted and inspected', async (t) => {
    const curl = (path: string, args: string[]) =>
      topo.run(topo.pod, ['curl', '-sS', '--max-time', '20', '--cacert', tenantCaFile, '--resolve', `inspected.test:10443:${INTERNET_V4}`, '-o', '-', '-w', '\n%{http_code}', ...args, `https://inspected.test:10443${path}`]);
    const before = upstream.lines.length;
    const ok = await curl('/intercepted', ['-d', 'quarterly numbers']);
    t.equal(ok.stdout.trim().split('\n').pop(), '200', ok.stderr);
    const seen = await upstream.waitFor((l) => l.url === '/intercepted', 'intercepted');
    t.equal(seen.servername, 'inspected.test', 'SNI preserved upstream');
    t.match(seen.via, /kube-dlp-/, 'terminated: the proxy added its Via inside TLS');
    t.equal(seen.body, 'quarterly numbers');

    const blocked = await curl('/intercepted-exfil', ['-d', `dump: ${CARD}`]);
    t.equal(blocked.stdout.trim().split('\n').pop(), '403', blocked.stderr);
    const line = await audit((l) => l.decision === 'blocked' && l.destination === 'inspected.test:10443', 'blocked inside TLS');
    t.match(JSON.stringify(line.evidence), /4111[ *]+1111/, 'masked evidence only');
    await settle('intercept');
    t.same(arrivalsSince(before).map((l) => l.url), ['/intercepted', '/marker-intercept'], 'the card never left the pod');

    const untrusting = await topo.run(topo.pod, ['curl', '-sS', '--max-time', '20', '--cacert', pki.caFile, '--resolve', `inspected.test:10443:${INTERNET_V4}`, 'https://inspected.test:10443/no-trust']);
    t.equal(untrusting.code, 60, `a client without the tenant CA refuses the leaf (${untrusting.stderr.trim()})`);
  });

  await t.test('tenant isolation: another tenant denied by IP and by name, the same tenant allowed', async (t) => {
    const before = upstream.lines.length;
    const byIp = await app({ kind: 'http', host: OTHER_TENANT_SVC, port: 8080, path: '/cross-ip' });
    t.equal(byIp.status, 403);
    t.equal(JSON.parse(byIp.body).error, 'denied_cross_tenant');
    t.match(JSON.parse(byIp.body).reason, /team-b .*globex/);
    const byName = await app({ kind: 'http', host: INTERNET_V4, port: 8080, path: '/cross-name', headers: { host: 'api.team-b.svc.cluster.local' } });
    t.equal(byName.status, 403);
    const disguised = await app({ kind: 'http', host: OTHER_TENANT_SVC, port: 8080, path: '/cross-disguised', headers: { host: 'api.team-a2' } });
    t.equal(disguised.status, 403, 'a same-tenant Host header does not hide the real address');
    const tcp = await app({ kind: 'tcp', host: OTHER_TENANT_SVC, port: 7000, send: 'x' });
    t.ok(tcp.error === 'ECONNRESET' || tcp.received === '', `raw TCP refused: ${JSON.stringify(tcp)}`);
    const same = await app({ kind: 'http', host: SAME_TENANT_SVC, port: 8080, path: '/same-tenant' });
    t.equal(same.status, 200);
    await upstream.waitFor((l) => l.url === '/same-tenant', 'same tenant');
    await settle('tenancy');
    t.same(arrivalsSince(before).map((l) => l.url ?? l.name), ['/same-tenant', '/marker-tenancy']);
    const denials = proxy.lines.filter((l) => l.decision === 'denied_cross_tenant');
    t.equal(denials.length, 4, 'each denial audited');
    t.ok(denials.every((l) => l.action === 'deny'));
  });

  await t.test('TLS origination: plain HTTP in, verified TLS out; a wrong certificate is refused', async (t) => {
    const r = await app({ kind: 'http', host: INTERNET_V4, port: 80, path: '/originated', headers: { host: 'tls.test' } });
    t.equal(r.status, 200, JSON.stringify(r));
    const seen = await upstream.waitFor((l) => l.url === '/originated', 'originated');
    t.equal(seen.event, 'https');
    t.equal(seen.servername, 'tls.test');
    t.match(seen.via, /kube-dlp-/);

    const bad = await app({ kind: 'http', host: INTERNET_V4, port: 80, path: '/bad-cert', headers: { host: 'bad-cert.test' } });
    t.equal(bad.status, 502);
    t.match(JSON.parse(bad.body).reason, /ERR_TLS_CERT_ALTNAME_INVALID/);
    await upstream.waitFor((l) => l.event === 'tls-error' && l.name === 'wrong-cert', 'handshake refused at the upstream');
    t.notOk(upstream.lines.some((l) => l.url === '/bad-cert'));
  });

  await t.test('explicit proxy use from inside the pod still works on the same port', async (t) => {
    const r = await app({ kind: 'http', host: '127.0.0.1', port: 15001, path: `http://${INTERNET_V4}:8080/explicit` });
    t.equal(r.status, 200);
    t.match((await upstream.waitFor((l) => l.url === '/explicit', 'explicit')).via, /kube-dlp-/);
  });

  await t.test('nothing bypassed the proxy, and its own connections were not looped back', async (t) => {
    // TLS passthrough cannot carry a Via (the proxy never sees inside); its audit line proves it passed through the proxy.
    const fromPod = upstream.lines.filter((l) => (l.event === 'http' || l.event === 'https' || l.event === 'h2c') && l.url !== '/passthrough');
    t.same(
      fromPod.map((l) => l.url).sort(),
      ['/by-name', '/explicit', '/h2c-ok', '/intercepted', '/marker-exfil', '/marker-h2c', '/marker-intercept', '/marker-tcp', '/marker-tenancy', '/originated', '/same-tenant', '/upload?x=1', '/v6'],
      'exactly the allowed requests arrived',
    );
    t.same(fromPod.filter((l) => !/kube-dlp-/.test(l.via ?? '')).map((l) => l.url), [], 'every HTTP request carries the Via of the proxy');
    t.ok(fromPod.every((l) => l.remote === POD_V4 || l.remote === '::ffff:' + POD_V4 || l.remote === 'fd13:213::1'));
    const metrics = (await app({ kind: 'http', host: '127.0.0.1', port: 15090, path: '/metrics' })).body as string;
    t.equal(sampleValue(metrics, 'kubedlp_bad_requests_total', { reason: 'loop' }), 0);
    t.equal(sampleValue(metrics, 'kubedlp_transparent_rejected_connections_total', { problem: 'loop' }), 0);
    t.equal(sampleValue(metrics, 'kubedlp_transparent_rejected_connections_total', { problem: 'original_dst_failed' }), 0);
    t.equal(sampleValue(metrics, 'kubedlp_proxy_requests_total', { decision: 'denied_cross_tenant' }), 4);
    t.equal(sampleValue(metrics, 'kubedlp_proxy_requests_total', { decision: 'blocked' }), 3);
    t.equal(sampleValue(metrics, 'kubedlp_tls_connections_total', { outcome: 'intercepted' }), 2);
    t.equal(sampleValue(metrics, 'kubedlp_tls_connections_total', { outcome: 'bypassed' }), 1);
    t.equal(sampleValue(metrics, 'kubedlp_tls_connections_total', { outcome: 'client_rejected_ca' }), 1);
    t.ok(sampleValue(metrics, 'kubedlp_transparent_connections_total', { protocol: 'tls' }) >= 1);
    t.ok(sampleValue(metrics, 'kubedlp_transparent_connections_total', { protocol: 'tcp' }) >= 3);
    t.equal(sampleValue(metrics, 'kubedlp_transparent_connections_total', { protocol: 'h2c' }), 2);
    t.notMatch(JSON.stringify(proxy.lines) + proxy.stderr(), /4111 1111 1111 1111|4111111111111111/, 'the card number never appears in logs');
  });

  await t.test('when the proxy stops, the pod fails closed: egress is refused, not let through', async (t) => {
    proxyProcess.kill('SIGTERM');
    await once(proxyProcess, 'exit');
    t.match(proxy.stderr(), /proxy stopped/, 'drained and stopped cleanly');
    const before = upstream.lines.length;
    t.equal((await app({ kind: 'http', host: INTERNET_V4, port: 8080, path: '/after-stop' })).error, 'ECONNREFUSED');
    t.equal((await app({ kind: 'tcp', host: INTERNET_V4, port: 7000, send: 'ping' })).error, 'ECONNREFUSED');
    t.equal(upstream.lines.length, before, 'nothing arrived');
  });
}

async function runApp(topo: Topology, action: object): Promise<Line> {
  const r = await topo.run(topo.pod, ['node', join(NETNS, 'app.js'), JSON.stringify(action)]);
  try {
    return JSON.parse(r.stdout.trim().split('\n').pop() ?? '') as Line;
  } catch {
    throw new Error(`app printed no result (exit ${r.code}): ${r.stderr.slice(-1000)}`);
  }
}

/** Polls /readyz from inside the pod (loopback is never captured) until the proxy answers 200. */
async function waitReady(app: (a: object) => Promise<Line>, proxy: JsonLineWatcher<Line>): Promise<void> {
  let exited: Error | undefined;
  proxy.waitFor(() => false, 'never').catch((err: Error) => (exited = err));
  // An exited proxy ends the wait at once, with its reason, instead of at the deadline.
  const outcome = await waitFor(
    async () => exited ?? ((await app({ kind: 'http', host: '127.0.0.1', port: 15090, path: '/readyz', timeoutMs: 2000 })).status === 200 && 'ready'),
    { what: 'the proxy in the pod to answer /readyz with 200', timeoutMs: 120_000 },
  );
  if (outcome instanceof Error) throw outcome;
}

void main();
