// The admin port and graceful shutdown: readiness follows the profile and
// the drain, in-flight requests finish, new ones are refused, and a request
// that outlives the drain deadline is cut.
import t from 'tap';
import net from 'node:net';
import { loadNativeBinding } from '../../proxy/native';
import { protectProfile, request, startTestProxy, startUpstream, type Upstream } from './proxy-harness';

let upstream: Upstream;
t.before(async () => {
  upstream = await startUpstream();
});
t.teardown(() => upstream.close());

t.test('admin endpoints', async (t) => {
  const proxy = await startTestProxy(protectProfile());
  t.teardown(() => proxy.stop());
  t.equal((await request(proxy.adminPort, { path: '/healthz' })).status, 200);
  t.equal((await request(proxy.adminPort, { path: '/readyz' })).status, 200);
  const metrics = await request(proxy.adminPort, { path: '/metrics' });
  t.equal(metrics.status, 200);
  t.match(metrics.headers['content-type'], /text\/plain/);
  t.match(metrics.body.toString(), /kubedlp_engine_info\{engine="(vectorscan|re2)"\} 1/);
  t.match(metrics.body.toString(), /kubedlp_config_info\{version="[0-9a-f]+",profile="test-profile"\} 1/);
  t.ok((await proxy.metric('kubedlp_config_last_reload_success_timestamp_seconds')) > 1.6e9);
  t.equal((await request(proxy.adminPort, { path: '/nope' })).status, 404);
  t.equal((await request(proxy.adminPort, { path: '/metrics', method: 'POST' })).status, 405);
});

t.test('an invalid profile at startup is rejected with its error code', async (t) => {
  await t.rejects(startTestProxy(protectProfile().replace('mode: Protect', 'mode: Loud')), { code: 'KDLP_PROFILE_INVALID' });
});

t.test('drain: readiness drops, new connections are refused, in-flight requests finish', async (t) => {
  const proxy = await startTestProxy(protectProfile());
  let release: (() => void) | undefined;
  upstream.behave((_req, res) => {
    release = () => res.end('late but fine');
  });
  t.teardown(() => upstream.behave(undefined));
  const before = upstream.requests.length;
  const inFlight = request(proxy.port, { path: `http://127.0.0.1:${upstream.port}/slow` });
  await upstream.waitFor(before + 1);

  const stopped = proxy.running.stop(10_000);
  t.equal((await request(proxy.adminPort, { path: '/readyz' })).status, 503, 'not ready while draining');
  const refused = await new Promise<string>((resolve) => {
    const s = net.connect(proxy.port, '127.0.0.1');
    s.on('connect', () => {
      s.destroy();
      resolve('connected');
    });
    s.on('error', (e: NodeJS.ErrnoException) => resolve(e.code ?? 'error'));
  });
  t.equal(refused, 'ECONNREFUSED', 'the listener is closed');
  release!();
  const res = await inFlight;
  t.equal(res.status, 200);
  t.equal(res.body.toString(), 'late but fine');
  await stopped;
  t.match(proxy.logText(), /"cut":0/);
});

t.test('drain deadline: what is still running is cut', async (t) => {
  const proxy = await startTestProxy(protectProfile());
  upstream.behave(() => undefined);
  t.teardown(() => upstream.behave(undefined));
  const before = upstream.requests.length;
  const inFlight = request(proxy.port, { path: `http://127.0.0.1:${upstream.port}/never` }).then(
    (r) => `status ${r.status}`,
    (e: NodeJS.ErrnoException) => e.code ?? 'error',
  );
  await upstream.waitFor(before + 1);
  await proxy.running.stop(200);
  t.equal(await inFlight, 'ECONNRESET', 'the client connection was cut');
  t.match(proxy.logText(), /drain deadline reached/);
  t.match(proxy.logText(), /"cut":1/);
});

const native = loadNativeBinding();
const noTrim = !native.ok ? `no native binding here: ${native.reason}` : !native.binding.releaseFreeMemory ? 'the addon was built before releaseFreeMemory' : false;
t.test('when traffic stops, free native heap goes back to the kernel: once per quiet period', { skip: noTrim }, async (t) => {
  const quietMs = 150;
  const proxy = await startTestProxy(protectProfile(), { releaseMemoryQuietMs: quietMs });
  t.teardown(() => proxy.stop());
  const released = () => (proxy.logText().match(/free native memory returned/g) ?? []).length;
  t.match(proxy.logText(), /"rssMiB":\{"before":[\d.]+,"after":[\d.]+\},"msg":"loaded: unused memory returned"/, 'start-up returned what loading left behind');
  await new Promise((r) => setTimeout(r, quietMs * 4));
  t.equal(released(), 0, 'no traffic yet: nothing to release (start-up released after compiling)');

  for (let i = 0; i < 3; i++) t.equal((await request(proxy.port, { path: `http://127.0.0.1:${upstream.port}/burst`, method: 'POST', body: 'ok' })).status, 200);
  const deadline = Date.now() + 10_000;
  while (released() === 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 25));
  t.equal(released(), 1, 'released after the burst');
  t.match(proxy.logText(), /"rssMiB":\{"before":[\d.]+,"after":[\d.]+\}/, 'with RSS before and after');
  await new Promise((r) => setTimeout(r, quietMs * 4));
  t.equal(released(), 1, 'a long quiet period releases once');
});
