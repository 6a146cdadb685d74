// GET /observed on a real sidecar in Monitor mode: several real upstreams,
// planted secrets, a real HTTP client. The summary has the right counts per
// destination and detector, and none of the values or paths.
import t from 'tap';
import { CARD, CARD_DIGITS, EMAIL, PROFILE_HEADER, request, startTestProxy, startUpstream, type Upstream } from './proxy-harness';

const MONITOR = `${PROFILE_HEADER}spec:
  mode: Monitor
  detectors:
    enable: [pci.card-number, pii.email]
`;

const AWS_KEY = 'AKIAIOSFODNN7EXAMPLE';

interface Summary {
  pod: string;
  evicted: number;
  destinations: Array<{
    host: string;
    port: number;
    scheme: string;
    requests: number;
    methods: Record<string, number>;
    decisions: Record<string, number>;
    requestBytes: number;
    detectors: Array<{ detector: string; category: string; severity: string; count: number; actions: Record<string, number> }>;
  }>;
}

t.test('the summary counts what each destination got, without values', async (t) => {
  const ups: Upstream[] = await Promise.all([startUpstream(), startUpstream(), startUpstream()]);
  const proxy = await startTestProxy(MONITOR);
  t.teardown(async () => {
    await proxy.stop();
    await Promise.all(ups.map((u) => u.close()));
  });
  const [payments, mail, plain] = ups as [Upstream, Upstream, Upstream];
  const url = (u: Upstream, path: string) => `http://127.0.0.1:${u.port}${path}`;
  const secretPath = `/charge/${CARD_DIGITS}?token=${AWS_KEY}`;
  for (let i = 0; i < 3; i++) {
    const res = await request(proxy.port, { method: 'POST', path: url(payments, secretPath), headers: { 'content-type': 'application/json' }, body: JSON.stringify({ card: CARD }) });
    t.equal(res.status, 200, 'Monitor forwards');
  }
  for (let i = 0; i < 2; i++) {
    await request(proxy.port, { method: 'PUT', path: url(mail, '/users/42'), body: `contact=${EMAIL}` });
  }
  for (let i = 0; i < 4; i++) await request(proxy.port, { path: url(plain, '/health') });

  const res = await request(proxy.adminPort, { path: '/observed' });
  t.equal(res.status, 200);
  t.match(res.headers['content-type'], /application\/json/);
  const text = res.body.toString();
  for (const secret of [CARD, CARD_DIGITS, EMAIL, AWS_KEY, '/charge', '/users/42', '/health', 'token=']) {
    t.notOk(text.includes(secret), `no ${secret} in /observed`);
  }
  const s = res.json<Summary>();
  t.equal(s.pod, 'test-pod');
  t.equal(s.destinations.length, 3);
  const at = (u: Upstream) => s.destinations.find((d) => d.port === u.port)!;
  t.match(at(payments), { host: '127.0.0.1', scheme: 'http', requests: 3, methods: { POST: 3 }, decisions: { allowed: 3 } });
  const card = at(payments).detectors.find((d) => d.detector === 'pci.card-number');
  // Three bodies and three URLs each carry the card: six findings, all monitored.
  t.match(card, { category: 'pci', count: 6, actions: { monitor: 6 } });
  t.equal(at(payments).requestBytes, 3 * Buffer.byteLength(JSON.stringify({ card: CARD })));
  t.match(at(mail), { requests: 2, methods: { PUT: 2 } });
  t.match(at(mail).detectors, [{ detector: 'pii.email', category: 'pii', count: 2, actions: { monitor: 2 } }]);
  t.match(at(plain), { requests: 4, methods: { GET: 4 }, detectors: [] });
  t.equal(s.evicted, 0);

  t.equal((await request(proxy.adminPort, { path: '/observed/reset' })).status, 405, 'reset is POST only');
  const reset = await request(proxy.adminPort, { path: '/observed/reset', method: 'POST' });
  t.equal(reset.status, 200);
  t.equal(reset.json<Summary>().destinations.length, 3, 'reset returns what it cleared');
  t.equal((await request(proxy.adminPort, { path: '/observed' })).json<Summary>().destinations.length, 0, 'then starts afresh');
});

t.test('the summary is bounded: a pod calling many destinations evicts and counts', async (t) => {
  const ups: Upstream[] = await Promise.all([startUpstream(), startUpstream(), startUpstream()]);
  const proxy = await startTestProxy(MONITOR, { observed: { maxEntries: 2 } });
  t.teardown(async () => {
    await proxy.stop();
    await Promise.all(ups.map((u) => u.close()));
  });
  for (const u of ups) await request(proxy.port, { path: `http://127.0.0.1:${u.port}/` });
  const s = (await request(proxy.adminPort, { path: '/observed' })).json<Summary>();
  t.equal(s.destinations.length, 2);
  t.equal(s.evicted, 1);
  t.same(s.destinations.map((d) => d.port).sort(), [ups[1]!.port, ups[2]!.port].sort(), 'the oldest went first');
});
