// Issue #11 finding 8: every exchange ends in exactly one counted outcome (a
// decision in kubedlp_proxy_requests_total, or a reason in
// kubedlp_bad_requests_total); a client that half-closes after a complete
// request still gets its response; a reset during hold-back is counted and
// audited; a slow-header timeout is counted once.
import t from 'tap';
import net from 'node:net';
import {
  CARD,
  protectProfile,
  rawExchange,
  request,
  sampleValue,
  startTestProxy,
  startUpstream,
  statusOf,
  type TestProxy,
  type Upstream,
} from './proxy-harness';
import type { NameResolver } from '../../proxy/http/name-resolver';

let upstream: Upstream;
let proxy: TestProxy;
// Answers like the system resolver, except that `slow.test` takes 400 ms.
const resolver: NameResolver = async (name) => {
  if (name === 'slow.test') await new Promise((r) => setTimeout(r, 400));
  return ['127.0.0.1'];
};
t.before(async () => {
  upstream = await startUpstream();
  proxy = await startTestProxy(protectProfile(), {
    timeouts: { headersMs: 300, requestMs: 5000, timeoutCheckIntervalMs: 100 },
    resolver,
  });
});
t.teardown(async () => {
  await proxy.stop();
  await upstream.close();
});

const target = () => `127.0.0.1:${upstream.port}`;

/** Total outcomes counted so far: decisions plus bad requests. */
async function outcomes(): Promise<number> {
  const text = await proxy.metrics();
  return sampleValue(text, 'kubedlp_proxy_requests_total') + sampleValue(text, 'kubedlp_bad_requests_total');
}

/** Poll (bounded) until `check` holds; metrics and audit lines are written as sockets close. */
async function eventually(check: () => Promise<boolean>, what: string): Promise<void> {
  for (let i = 0; i < 100; i++) {
    if (await check()) return;
    await new Promise((r) => setTimeout(r, 30));
  }
  throw new Error(`never happened: ${what}`);
}

/** Send bytes, then half-close (FIN) our side; collect the reply until the proxy closes. */
function sendAndHalfClose(bytes: string): Promise<string> {
  return new Promise((resolve) => {
    const socket = net.connect(proxy.port, '127.0.0.1', () => {
      socket.end(bytes);
    });
    let out = '';
    const timer = setTimeout(() => socket.destroy(), 3000);
    socket.on('data', (d) => (out += d.toString('latin1')));
    socket.on('error', () => undefined);
    socket.on('close', () => {
      clearTimeout(timer);
      resolve(out);
    });
  });
}

t.test('a client that half-closes after a full request still gets the response', async (t) => {
  const get = await sendAndHalfClose(`GET http://${target()}/half HTTP/1.1\r\nHost: ${target()}\r\n\r\n`);
  t.equal(statusOf(get), 200);
  t.match(get, /"ok":true/);
  const body = 'a body that is complete';
  const post = await sendAndHalfClose(`POST http://${target()}/half HTTP/1.1\r\nHost: ${target()}\r\nContent-Length: ${body.length}\r\n\r\n${body}`);
  t.equal(statusOf(post), 200);
  t.match(post, new RegExp(`"received":${body.length}`));
  const blocked = await sendAndHalfClose(`POST http://${target()}/half HTTP/1.1\r\nHost: ${target()}\r\nContent-Length: ${CARD.length}\r\n\r\n${CARD}`);
  t.equal(statusOf(blocked), 403, 'a refusal reaches a half-closed client too');
});

t.test('a reset during hold-back is counted (metric), audited, and nothing is forwarded', async (t) => {
  const before = upstream.requests.length;
  const errorsBefore = await proxy.metric('kubedlp_proxy_requests_total', { decision: 'error' });
  const socket = net.connect(proxy.port, '127.0.0.1');
  socket.on('error', () => undefined);
  await new Promise<void>((r) => socket.once('connect', () => r()));
  socket.write(`POST http://${target()}/reset HTTP/1.1\r\nHost: ${target()}\r\nTransfer-Encoding: chunked\r\n\r\n200\r\n${'a'.repeat(0x200)}\r\n`);
  // 512 bytes are held (holdBackBytes is 1024): wait until the proxy has them, then reset.
  await new Promise((r) => setTimeout(r, 200));
  socket.resetAndDestroy();
  await eventually(async () => (await proxy.metric('kubedlp_client_aborts_total', { stage: 'hold_back' })) === 1, 'hold_back abort counted');
  t.equal(await proxy.metric('kubedlp_proxy_requests_total', { decision: 'error' }), errorsBefore + 1, 'one error outcome');
  const line = proxy.audit().at(-1) as { decision: string; reason: string; action: string; path: string };
  t.equal(line.decision, 'error');
  t.equal(line.path, '/reset');
  t.match(line.reason, /reset the connection during hold-back.*nothing was forwarded/);
  t.equal(upstream.requests.length, before, 'the upstream saw nothing');
});

t.test('a slow-header timeout is counted exactly once', async (t) => {
  const before = await proxy.metric('kubedlp_bad_requests_total', { reason: 'timeout' });
  // The client keeps its side open for a second after the 408: several timeout checks run meanwhile.
  const reply = await rawExchange(proxy.port, `GET http://${target()}/ HTTP/1.1\r\nHost: ${target()}\r\nX-Slow: `, 1000);
  t.equal(statusOf(reply), 408);
  t.equal(await proxy.metric('kubedlp_bad_requests_total', { reason: 'timeout' }), before + 1);
});

t.test('a client that leaves while its destination is being resolved is one error outcome', async (t) => {
  const before = await outcomes();
  const socket = net.connect(proxy.port, '127.0.0.1');
  socket.on('error', () => undefined);
  socket.write(`GET http://slow.test:${upstream.port}/ HTTP/1.1\r\nHost: slow.test\r\n\r\n`);
  await new Promise((r) => setTimeout(r, 100));
  // A reset, not a FIN: a FIN after a complete request is a half-close and is still served.
  socket.resetAndDestroy();
  await eventually(async () => (await proxy.metric('kubedlp_client_aborts_total', { stage: 'before_decision' })) === 1, 'abort counted');
  await new Promise((r) => setTimeout(r, 500)); // the lookup finishes meanwhile: no second outcome
  t.equal(await outcomes(), before + 1);
});

t.test('every exchange of a mixed batch ends in exactly one counted outcome', async (t) => {
  const before = await outcomes();
  let exchanges = 0;
  const count = async <T>(p: Promise<T>): Promise<T> => {
    exchanges++;
    return p;
  };
  await count(request(proxy.port, { path: `http://${target()}/ok` }));
  await count(request(proxy.port, { method: 'POST', path: `http://${target()}/card`, body: CARD }));
  await count(request(proxy.port, { path: '/origin-form' }));
  await count(request(proxy.port, { path: 'http://denied.example/' }));
  await count(sendAndHalfClose(`GET http://${target()}/half HTTP/1.1\r\nHost: ${target()}\r\n\r\n`));
  await count(rawExchange(proxy.port, `GET http://${target()}/ HTTP/1.1\r\nX-Slow: `, 600));
  // A malformed chunk while the body is held back: a bad request, not also an error decision.
  await count(rawExchange(proxy.port, `POST http://${target()}/c HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\nZZZ\r\n`, 600));
  await count(rawExchange(proxy.port, 'PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n', 300));
  await eventually(async () => (await outcomes()) >= before + exchanges, 'all outcomes counted');
  await new Promise((r) => setTimeout(r, 300));
  t.equal(await outcomes(), before + exchanges, `${exchanges} exchanges, ${exchanges} outcomes`);
});
