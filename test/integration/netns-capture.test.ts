// `kube-dlp init-iptables` on a real kernel, in network namespaces standing
// in for a pod and the network beyond it. Proves: TCP egress (IPv4 and IPv6)
// lands on the proxy port with its original destination recorded; the
// proxy's uid, excluded ports and CIDRs and loopback are not redirected;
// with nothing listening on the proxy port egress is refused (fail closed)
// and nothing reaches the upstream; re-running is idempotent; --remove
// restores direct egress.
import t from 'tap';
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
import { unprivileged } from '../../scripts/netns/unprivileged';

const ROOT = join(__dirname, '..', '..');
const NETNS = join(ROOT, 'scripts', 'netns');
const PROXY_UID = '1337';
const PROXY_PORT = '15001';

type Line = Record<string, any>;

async function main(): Promise<void> {
  const unavailable = await netnsUnavailableReason();
  if (unavailable) {
    t.comment(`SKIPPING network namespace capture tests: ${unavailable}`);
    t.test('network namespace tests', { skip: `network namespaces unavailable: ${unavailable}` }, async () => undefined);
    return;
  }
  await removeStaleNamespaces();
  const topo = await createTopology('cap', { serviceAddresses: ['10.213.3.10'] });
  t.teardown(() => topo.destroy());

  const upstream = watchJsonLines<Line>(
    topo.spawn(topo.internet, [
      'node',
      join(NETNS, 'upstream.js'),
      JSON.stringify({
        http: [
          { name: 'web', host: INTERNET_V4, port: 8080 },
          { name: 'web6', host: INTERNET_V6, port: 8080 },
          { name: 'excluded-port', host: INTERNET_V4, port: 9999 },
          { name: 'excluded-cidr', host: '10.213.3.10', port: 8080 },
        ],
      }),
    ]),
  );
  await upstream.waitFor((l) => l.event === 'listening', 'upstream listening');

  const asProxy = unprivileged(ROOT, Number(PROXY_UID));
  t.teardown(() => asProxy.remove());
  await asProxy.probe(join(NETNS, 'app.js'));
  const app = (action: object, asProxyUid = false) =>
    runJson(topo, asProxyUid ? asProxy.argv(['node', asProxy.path(join(NETNS, 'app.js')), JSON.stringify(action)]) : ['node', join(NETNS, 'app.js'), JSON.stringify(action)]);
  const init = (...args: string[]) => topo.run(topo.pod, ['node', join(NETNS, 'init-iptables.js'), ...args]);
  const save = async () => (await topo.run(topo.pod, ['iptables-save', '-t', 'nat'])).stdout.replace(/^#.*\n/gm, '');
  const save6 = async () => (await topo.run(topo.pod, ['ip6tables-save', '-t', 'nat'])).stdout.replace(/^#.*\n/gm, '');

  await t.test('before capture, the app reaches the upstream directly', async (t) => {
    const r = await app({ kind: 'http', host: INTERNET_V4, port: 8080, path: '/direct' });
    t.equal(r.status, 200);
    await upstream.waitFor((l) => l.url === '/direct', 'direct request');
  });

  const flags = ['--proxy-port', PROXY_PORT, '--proxy-uid', PROXY_UID, '--exclude-ports', '9999', '--exclude-cidrs', '10.213.3.0/24', '--ipv6', 'on'];

  await t.test('init-iptables installs the redirect, idempotently', async (t) => {
    const first = await init(...flags);
    t.equal(first.code, 0, first.stderr);
    const rules = await save();
    t.match(rules, /-A OUTPUT -p tcp -j KUBEDLP_OUTPUT/);
    t.match(rules, /-A KUBEDLP_OUTPUT -m owner --uid-owner 1337 -j RETURN/);
    t.match(rules, /-A KUBEDLP_OUTPUT -p tcp -j REDIRECT --to-ports 15001/);
    t.match(await save6(), /-A KUBEDLP_OUTPUT -p tcp -j REDIRECT --to-ports 15001/);
    const second = await init(...flags);
    t.equal(second.code, 0, second.stderr);
    t.equal(await save(), rules, 'a second run leaves identical rules (one jump, same chain)');
    t.equal((rules.match(/-j KUBEDLP_OUTPUT/g) ?? []).length, 1);
  });

  await t.test('fail closed: with nothing on the proxy port, egress is refused and nothing leaks', async (t) => {
    const before = upstream.lines.length;
    const r = await app({ kind: 'http', host: INTERNET_V4, port: 8080, path: '/must-not-arrive' });
    t.equal(r.error, 'ECONNREFUSED');
    const r6 = await app({ kind: 'http', host: INTERNET_V6, port: 8080, path: '/must-not-arrive-v6' });
    t.equal(r6.error, 'ECONNREFUSED');
    // A request that is allowed out afterwards (excluded port) is ordered after anything the refused ones could have sent.
    await app({ kind: 'http', host: INTERNET_V4, port: 9999, path: '/marker-1' });
    await upstream.waitFor((l) => l.url === '/marker-1', 'marker');
    t.same(upstream.lines.slice(before).map((l) => l.url), ['/marker-1']);
  });

  await t.test('redirected connections carry their original destination; exemptions go direct', async (t) => {
    const listener = watchJsonLines<Line>(
      topo.spawn(topo.pod, asProxy.argv(['node', asProxy.path(join(NETNS, 'original-dst-listener.js')), PROXY_PORT])),
    );
    await listener.waitFor((l) => l.event === 'listening', 'listener');

    const v4 = await app({ kind: 'tcp', host: INTERNET_V4, port: 8080, send: 'x' });
    t.equal(v4.received, 'intercepted');
    t.same((await listener.waitFor((l) => l.original?.port === 8080 && l.original?.family === 4, 'v4 redirect')).original, {
      address: INTERNET_V4,
      port: 8080,
      family: 4,
    });
    const v6 = await app({ kind: 'tcp', host: INTERNET_V6, port: 8080, send: 'x' });
    t.equal(v6.received, 'intercepted');
    t.same((await listener.waitFor((l) => l.original?.family === 6, 'v6 redirect')).original, { address: INTERNET_V6, port: 8080, family: 6 });

    const before = upstream.lines.length;
    t.equal((await app({ kind: 'http', host: INTERNET_V4, port: 8080, path: '/as-proxy-uid' }, true)).status, 200, 'the proxy uid is not redirected');
    t.equal((await app({ kind: 'http', host: INTERNET_V4, port: 9999, path: '/excluded-port' })).status, 200);
    t.equal((await app({ kind: 'http', host: '10.213.3.10', port: 8080, path: '/excluded-cidr' })).status, 200);
    t.equal((await app({ kind: 'tcp', host: '127.0.0.1', port: Number(PROXY_PORT), send: 'x' })).received, 'intercepted', 'loopback is reachable as is');
    t.same(
      upstream.lines.slice(before).map((l) => `${l.name}${l.url}`),
      ['web/as-proxy-uid', 'excluded-port/excluded-port', 'excluded-cidr/excluded-cidr'],
    );
    // conntrack tracks un-NATed connections too: their "original" destination is simply the real one.
    const loopback = await listener.waitFor((l) => l.original?.address === '127.0.0.1', 'loopback connection');
    t.same(loopback.original, { address: '127.0.0.1', port: Number(PROXY_PORT), family: 4 }, 'the loopback connection was not rewritten');
  });

  await t.test('--inbound: listed ports come through the proxy port, the admin port never does', async (t) => {
    const r = await init(...flags, '--inbound', '8081', '--admin-port', '15090');
    t.equal(r.code, 0, r.stderr);
    t.match(await save(), /-A PREROUTING -p tcp -j KUBEDLP_INBOUND/);
    const fromOutside = (port: number) =>
      runJson(topo, ['node', join(NETNS, 'app.js'), JSON.stringify({ kind: 'tcp', host: POD_V4, port, send: 'x' })], topo.internet);
    t.equal((await fromOutside(8081)).received, 'intercepted');
    t.equal((await fromOutside(15090)).error, 'ECONNREFUSED', 'the admin port is not redirected (nothing listens there in this test)');
    t.equal((await fromOutside(8082)).error, 'ECONNREFUSED', 'unlisted ports are not redirected');
    const back = await init(...flags);
    t.equal(back.code, 0);
    t.notMatch(await save(), /KUBEDLP_INBOUND/, 're-running without --inbound removes inbound capture');
    t.equal((await fromOutside(8081)).error, 'ECONNREFUSED');
  });

  await t.test('--remove restores direct egress and is idempotent', async (t) => {
    const r = await init('--remove', '--ipv6', 'on');
    t.equal(r.code, 0, r.stderr);
    t.notMatch(await save(), /KUBEDLP/);
    t.notMatch(await save6(), /KUBEDLP/);
    t.equal((await init('--remove', '--ipv6', 'on')).code, 0);
    t.equal((await app({ kind: 'http', host: INTERNET_V4, port: 8080, path: '/after-remove' })).status, 200);
  });

  await t.test('--dry-run changes nothing', async (t) => {
    const r = await init(...flags, '--dry-run');
    t.equal(r.code, 0);
    t.match(r.stdout, /iptables-restore --noflush/);
    t.notMatch(await save(), /KUBEDLP/);
  });
}

async function runJson(topo: Topology, argv: string[], ns = topo.pod): Promise<Line> {
  const r = await topo.run(ns, argv);
  try {
    return JSON.parse(r.stdout.trim().split('\n').pop() ?? '') as Line;
  } catch {
    throw new Error(`app printed no result (exit ${r.code}): ${r.stderr.slice(-1000)}`);
  }
}

void main();
export type { JsonLineWatcher };
