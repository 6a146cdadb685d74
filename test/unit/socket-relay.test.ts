// relaySockets, the one byte pipe under CONNECT tunnels and opaque captured
// relays, against real sockets on port 0.
import t, { type Test } from 'tap';
import net from 'node:net';
import { once } from 'node:events';
import { listen } from '../../proxy/http/listen';
import { relaySockets, type RelayFailure, type RelayStats } from '../../proxy/http/socket-relay';

/** A connected client/server socket pair on loopback: `inner` plays the proxy's accepted socket. */
async function socketPair(t: Test) {
  const server = net.createServer();
  t.teardown(() => server.close());
  const port = await listen(server, { port: 0, host: '127.0.0.1' });
  const accepted = once(server, 'connection') as Promise<[net.Socket]>;
  const outer = net.connect(port, '127.0.0.1');
  const [inner] = await accepted;
  t.teardown(() => {
    outer.destroy();
    inner.destroy();
  });
  return { outer, inner };
}

async function echoServer(t: Test) {
  const server = net.createServer((s) => s.pipe(s));
  t.teardown(() => server.close());
  return listen(server, { port: 0, host: '127.0.0.1' });
}

t.test('replays the head, pipes both ways, counts bytes, reports the close', async (t) => {
  const port = await echoServer(t);
  const { outer, inner } = await socketPair(t);
  const events: string[] = [];
  const closed = new Promise<RelayStats>((resolve) =>
    relaySockets(inner, Buffer.from('head:'), { host: '127.0.0.1', port }, { connectTimeoutMs: 5000, idleTimeoutMs: 0 }, {
      onConnected: () => events.push('connected'),
      onEstablished: () => events.push('established'),
      onFailed: (f) => events.push(`failed:${f.kind}`),
      onClosed: resolve,
    }),
  );
  let echoed = '';
  outer.on('data', (c: Buffer) => (echoed += c.toString()));
  outer.write('body');
  while (echoed !== 'head:body') await once(outer, 'data');
  outer.end();
  const stats = await closed;
  t.same(events, ['connected', 'established']);
  t.same(stats, { established: true, bytesFromClient: 9, bytesToClient: 9 });
});

t.test('an upstream that refuses is a failure with its error; the client is left to the caller', async (t) => {
  const refused = net.createServer();
  const port = await listen(refused, { port: 0, host: '127.0.0.1' });
  await new Promise((r) => refused.close(r));
  const { inner } = await socketPair(t);
  const failure = await new Promise<RelayFailure>((resolve) =>
    relaySockets(inner, Buffer.alloc(0), { host: '127.0.0.1', port }, { connectTimeoutMs: 5000, idleTimeoutMs: 0 }, {
      onEstablished: () => t.fail('not established'),
      onFailed: resolve,
      onClosed: () => t.fail('onClosed does not follow a failure'),
    }),
  );
  t.equal(failure.kind, 'upstream-error');
  t.equal(failure.kind === 'upstream-error' && failure.error.code, 'ECONNREFUSED');
  t.notOk(inner.destroyed, 'the caller answers the client');
});

t.test('an idle relay is closed after the idle limit', async (t) => {
  const port = await echoServer(t);
  const { inner } = await socketPair(t);
  const stats = await new Promise<RelayStats>((resolve) =>
    relaySockets(inner, Buffer.alloc(0), { host: '127.0.0.1', port }, { connectTimeoutMs: 5000, idleTimeoutMs: 50 }, {
      onEstablished: () => undefined,
      onFailed: () => t.fail('no failure'),
      onClosed: resolve,
    }),
  );
  t.same(stats, { established: true, bytesFromClient: 0, bytesToClient: 0 });
  t.ok(inner.destroyed);
});
