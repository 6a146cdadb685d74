// Hot reload: a changed profile changes behaviour for new requests, an
// invalid one is rejected (old behaviour kept, failure counted), and a
// request in flight keeps the profile it started with.
import t from 'tap';
import { waitFor } from '../envtest/wait';
import { CARD, monitorProfile, protectProfile, request, startTestProxy, startUpstream, streamingRequest, type Upstream } from './proxy-harness';

let upstream: Upstream;
t.before(async () => {
  upstream = await startUpstream();
});
t.teardown(() => upstream.close());

// The watcher polls every 100 ms in the harness.
const until = (what: string, check: () => Promise<boolean>) => waitFor(check, { what, intervalMs: 25 });

t.test('Monitor → Protect → invalid → Monitor', async (t) => {
  const proxy = await startTestProxy(monitorProfile());
  t.teardown(() => proxy.stop());
  const url = `http://127.0.0.1:${upstream.port}/pay`;
  const send = () => request(proxy.port, { method: 'POST', path: url, body: `card=${CARD}` });

  t.equal((await send()).status, 200, 'Monitor forwards');
  const firstVersion = proxy.running.currentProfile().version;
  t.equal(await proxy.metric('kubedlp_config_info', { version: firstVersion }), 1);

  proxy.rewriteProfile(protectProfile());
  await until('protect active', async () => proxy.running.currentProfile().spec.mode === 'Protect');
  t.equal((await send()).status, 403, 'Protect blocks after the reload');
  const protectVersion = proxy.running.currentProfile().version;
  t.not(protectVersion, firstVersion);
  t.equal(await proxy.metric('kubedlp_config_info', { version: protectVersion }), 1);
  t.equal(await proxy.metric('kubedlp_config_info', { version: firstVersion }), 0, 'the old version is no longer reported');

  proxy.rewriteProfile(protectProfile().replace('mode: Protect', 'mode: Sometimes'));
  await until('reload failure counted', async () => (await proxy.metric('kubedlp_config_reload_failures_total')) === 1);
  t.equal(proxy.running.currentProfile().version, protectVersion, 'last good profile kept');
  t.equal((await send()).status, 403, 'still blocking');
  t.match(proxy.logText(), /profile reload rejected/);

  proxy.rewriteProfile(monitorProfile());
  await until('monitor again', async () => proxy.running.currentProfile().spec.mode === 'Monitor');
  t.equal((await send()).status, 200);
  t.equal(await proxy.metric('kubedlp_config_reload_failures_total'), 1);
});

t.test('a request in flight keeps the profile it started with', async (t) => {
  const proxy = await startTestProxy(monitorProfile('', 1024));
  t.teardown(() => proxy.stop());
  const before = upstream.requests.length;
  const res = await streamingRequest(proxy.port, `http://127.0.0.1:${upstream.port}/long`, [
    Buffer.alloc(4096, 'a'),
    () => upstream.waitForStarted(before + 1),
    async () => {
      proxy.rewriteProfile(protectProfile());
      await until('protect active', async () => proxy.running.currentProfile().spec.mode === 'Protect');
    },
    ` card ${CARD} `,
  ]);
  t.equal(res.status, 200, 'started under Monitor, finished under Monitor');
  await upstream.waitFor(before + 1);
  t.equal(upstream.requests[before].complete, true);
  const fresh = await request(proxy.port, { method: 'POST', path: `http://127.0.0.1:${upstream.port}/new`, body: `card=${CARD}` });
  t.equal(fresh.status, 403, 'a new request gets the new profile');
});
