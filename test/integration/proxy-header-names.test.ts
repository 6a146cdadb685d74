// Issue #11 finding 5: a header NAME is client-chosen bytes like any value.
// A secret carried in a name is found, and every place that names the header
// (403 body, audit location and reason, logs) shows it masked, never raw.
import t from 'tap';
import { monitorProfile, protectProfile, request, startTestProxy, startUpstream, type TestProxy, type Upstream } from './proxy-harness';

const AMEX = '378282246310005';

let upstream: Upstream;
t.before(async () => {
  upstream = await startUpstream();
});
t.teardown(() => upstream.close());

function everythingSaid(proxy: TestProxy, body: Buffer): string {
  return `${body.toString('latin1')}\n${proxy.auditText()}\n${proxy.logText()}`;
}

t.test('Protect: a card in a header name is blocked and never echoed raw', async (t) => {
  const proxy = await startTestProxy(protectProfile());
  t.teardown(() => proxy.stop());
  const before = upstream.requests.length;
  const res = await request(proxy.port, { path: `http://127.0.0.1:${upstream.port}/n`, headers: { [`x-${AMEX}`]: 'harmless' } });
  t.equal(res.status, 403);
  t.equal(upstream.requests.length, before, 'nothing forwarded');
  const json = res.json<{ reason: string; detectors: string[] }>();
  t.same(json.detectors, ['pci.card-number']);
  t.match(json.reason, /header x-\*{15}/, 'the reason names the header with the card masked');
  const line = proxy.audit().at(-1) as { evidence: Array<{ location: string }>; reason: string };
  t.equal(line.evidence[0]!.location, `header:x-${'*'.repeat(15)}`);
  t.notOk(everythingSaid(proxy, res.body).includes(AMEX), 'the card appears nowhere: body, audit, logs');
});

t.test('Monitor: the name is masked in the audit line of an allowed request', async (t) => {
  const proxy = await startTestProxy(monitorProfile());
  t.teardown(() => proxy.stop());
  const res = await request(proxy.port, { path: `http://127.0.0.1:${upstream.port}/m`, headers: { [`x-${AMEX}-id`]: '1' } });
  t.equal(res.status, 200);
  const line = proxy.audit().at(-1) as { evidence: Array<{ location: string }>; reason: string };
  t.equal(line.evidence[0]!.location, `header:x-${'*'.repeat(15)}-id`);
  t.notOk(everythingSaid(proxy, res.body).includes(AMEX));
});

t.test('a header whose whole name is a card is masked whole', async (t) => {
  const proxy = await startTestProxy(protectProfile());
  t.teardown(() => proxy.stop());
  const res = await request(proxy.port, { path: `http://127.0.0.1:${upstream.port}/s`, headers: { [`${AMEX}`]: 'v' } });
  t.equal(res.status, 403);
  t.match(res.json<{ reason: string }>().reason, /header \*{15}/);
  t.notOk(everythingSaid(proxy, res.body).includes(AMEX));
});
