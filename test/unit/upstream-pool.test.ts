// The pool of idle upstream TLS connections, over real loopback TLS
// connections (the pool reads socket state and events, which a fake would
// only imitate).
import t, { type Test } from 'tap';
import type { AddressInfo } from 'node:net';
import tls from 'node:tls';
import { InterceptCa } from '../../proxy/tls/intercept-ca';
import { UpstreamPool } from '../../proxy/tls/upstream-pool';
import { waitFor } from '../envtest/wait';

interface Upstream {
  connect(): Promise<tls.TLSSocket>;
  /** Server-side sockets, in accept order. */
  accepted: tls.TLSSocket[];
}

async function upstream(t: Test): Promise<Upstream> {
  const ca = await InterceptCa.create({ commonName: 'pool test CA', lifetimeMs: 86_400_000 });
  const leaf = await (await InterceptCa.load(ca)).mint('localhost');
  const accepted: tls.TLSSocket[] = [];
  const server = tls.createServer({ cert: leaf.chainPem, key: leaf.keyPem }, (s) => {
    accepted.push(s);
    s.on('error', () => undefined);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const clients: tls.TLSSocket[] = [];
  t.teardown(() => {
    for (const c of clients) c.destroy();
    for (const s of accepted) s.destroy();
    server.close();
  });
  const port = (server.address() as AddressInfo).port;
  return {
    accepted,
    connect: () =>
      new Promise((resolve, reject) => {
        const s = tls.connect({ host: '127.0.0.1', port, servername: 'localhost', ca: ca.certPem });
        clients.push(s);
        s.once('secureConnect', () => resolve(s));
        s.once('error', reject);
      }),
  };
}

t.test('hands back the most recently released connection of the same upstream, and only of that one', async (t) => {
  const up = await upstream(t);
  const pool = new UpstreamPool();
  const a = await up.connect();
  const b = await up.connect();
  pool.release('up-1', a);
  pool.release('up-1', b);
  t.equal(pool.take('up-2'), undefined, 'another upstream key never gets it');
  t.equal(pool.take('up-1'), b, 'last released first');
  t.equal(pool.take('up-1'), a);
  t.equal(pool.take('up-1'), undefined);
  t.equal(pool.reused, 2);
  t.equal(pool.size, 0);
  t.notOk(a.destroyed || b.destroyed, 'taken connections are the caller\'s, open');
});

t.test('bounded per upstream and in all: the oldest idle connection is closed', async (t) => {
  const up = await upstream(t);
  const pool = new UpstreamPool({ maxPerUpstream: 2, maxTotal: 3 });
  const [a, b, c, d] = await Promise.all([up.connect(), up.connect(), up.connect(), up.connect()]);
  pool.release('x', a!);
  pool.release('x', b!);
  pool.release('x', c!);
  t.ok(a!.destroyed, 'a third idle connection to one upstream pushes out the oldest');
  t.equal(pool.size, 2);
  pool.release('y', d!);
  pool.release('z', await up.connect());
  t.equal(pool.size, 3, 'never more than maxTotal');
  t.ok(b!.destroyed, 'the oldest connection overall went');
  t.equal(pool.take('x'), c);
});

t.test('a connection the upstream closes, or writes to, while idle is dropped, and never handed out', async (t) => {
  const up = await upstream(t);
  // Idle timeout far beyond the waits below: only the upstream's doing can drop a connection here.
  const pool = new UpstreamPool({ idleMs: 600_000 });
  const closing = await up.connect();
  pool.release('k', closing);
  await waitFor(() => up.accepted.length === 1, { what: 'accepted', timeoutMs: 5000, intervalMs: 5 });
  up.accepted[0]!.end();
  await waitFor(() => pool.size === 0, { what: 'the closed connection dropped', timeoutMs: 5000, intervalMs: 5 });
  t.ok(closing.destroyed);

  const chatty = await up.connect();
  pool.release('k', chatty);
  await waitFor(() => up.accepted.length === 2, { what: 'accepted', timeoutMs: 5000, intervalMs: 5 });
  // An HTTP/1.1 upstream that writes to an idle connection is closing it (408) or broken.
  up.accepted[1]!.write('HTTP/1.1 408 Request Timeout\r\n\r\n');
  await waitFor(() => pool.size === 0, { what: 'the connection with unsolicited bytes dropped', timeoutMs: 3000, intervalMs: 5 });
  t.ok(chatty.destroyed);
  t.equal(pool.take('k'), undefined);
});

t.test('idle connections are closed after idleMs; a destroyed one is never taken in', async (t) => {
  const up = await upstream(t);
  const pool = new UpstreamPool({ idleMs: 30 });
  const s = await up.connect();
  pool.release('k', s);
  t.equal(pool.size, 1);
  await waitFor(() => s.destroyed, { what: 'idle timeout', timeoutMs: 5000, intervalMs: 5 });
  t.equal(pool.size, 0);
  const dead = await up.connect();
  dead.destroy();
  pool.release('k', dead);
  t.equal(pool.size, 0);
});

t.test('clear() closes every idle connection and keeps none afterwards', async (t) => {
  const up = await upstream(t);
  const pool = new UpstreamPool();
  const a = await up.connect();
  pool.release('k', a);
  pool.clear();
  t.ok(a.destroyed);
  const b = await up.connect();
  pool.release('k', b);
  t.ok(b.destroyed, 'a stopping proxy keeps nothing');
  t.equal(pool.size, 0);
});

t.test('maxTotal 0 keeps nothing', async (t) => {
  const up = await upstream(t);
  const pool = new UpstreamPool({ maxTotal: 0 });
  const a = await up.connect();
  pool.release('k', a);
  t.ok(a.destroyed);
  t.equal(pool.take('k'), undefined);
});
