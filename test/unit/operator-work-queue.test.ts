// The work queue's guarantees: dedupe, one worker per key, no lost updates,
// exponential backoff per key, coalesced delays, clean shutdown.
import t from 'tap';
import { waitFor } from '../envtest/wait';
import { WorkQueue } from '../../operator/kube/work-queue';
import { QueueShutDownError } from '../../operator/errors';

t.test('a key added many times is queued once', async (t) => {
  const q = new WorkQueue('t');
  q.add('a');
  q.add('b');
  q.add('a');
  q.add('a');
  t.equal(q.length, 2);
  t.equal(await q.get(), 'a');
  t.equal(await q.get(), 'b');
  t.equal(q.length, 0);
});

t.test('a key added while in process is processed again afterwards, never concurrently', async (t) => {
  const q = new WorkQueue('t');
  q.add('a');
  const key = await q.get();
  q.add('a');
  q.add('a');
  t.equal(q.length, 0, 'not handed to a second worker while the first holds it');
  q.done(key);
  t.equal(q.length, 1, 'requeued once');
  t.equal(await q.get(), 'a');
});

t.test('run(): concurrent workers never hold the same key at once, and every add after a start is seen', async (t) => {
  const q = new WorkQueue('t');
  const active = new Set<string>();
  let overlap = false;
  const seen: string[] = [];
  let rounds = 0;
  for (const k of ['x', 'y', 'z', 'x', 'y']) q.add(k);
  const running = q.run(4, async (key) => {
    if (active.has(key)) overlap = true;
    active.add(key);
    seen.push(key);
    await new Promise((r) => setImmediate(r));
    if (key === 'x' && rounds++ < 3) q.add('x'); // re-added while in process
    active.delete(key);
  });
  await waitFor(() => q.idle, { what: 'the queue to go idle', intervalMs: 5 });
  q.shutDown();
  await running;
  t.notOk(overlap);
  t.same(seen.filter((k) => k === 'x').length, 4, 'x: first add plus three re-adds during processing');
  t.same(seen.filter((k) => k === 'y').length, 1, 'y: added twice before any worker ran, processed once');
});

t.test('addRateLimited backs off exponentially per key; forget resets', async (t) => {
  const q = new WorkQueue('t', { baseDelayMs: 10, maxDelayMs: 45 });
  t.same([q.addRateLimited('a'), q.addRateLimited('a'), q.addRateLimited('a'), q.addRateLimited('a')], [10, 20, 40, 45]);
  t.equal(q.addRateLimited('b'), 10, 'per key');
  q.forget('a');
  t.equal(q.addRateLimited('a'), 10);
  t.equal(q.failuresOf('a'), 1);
  q.shutDown();
});

t.test('addAfter coalesces to the earliest time; add() beats a pending delay', async (t) => {
  const q = new WorkQueue('t');
  q.addAfter('a', 10_000);
  q.addAfter('a', 20);
  q.addAfter('a', 5_000);
  t.equal(q.length, 0);
  t.notOk(q.idle, 'a delayed key is pending work');
  const started = Date.now();
  // The queue's timers do not keep a process alive (shutdown must not wait for them); this test must.
  const keepAlive = setTimeout(() => {}, 30_000);
  t.equal(await q.get(), 'a');
  clearTimeout(keepAlive);
  t.ok(Date.now() - started < 5_000, 'the earliest delay won');
  q.done('a');
  q.addAfter('b', 60_000);
  q.add('b');
  t.equal(q.length, 1);
  t.equal(await q.get(), 'b');
  q.done('b');
  t.ok(q.idle, 'the delayed timer for b was cancelled');
});

t.test('shutDown: waiting get() rejects, queued keys still drain, adds are ignored', async (t) => {
  const q = new WorkQueue('t');
  const waiting = q.get();
  q.shutDown();
  await t.rejects(waiting, QueueShutDownError);
  const q2 = new WorkQueue('t2');
  q2.add('a');
  q2.shutDown();
  q2.add('b');
  t.equal(await q2.get(), 'a');
  await t.rejects(q2.get(), { code: 'KDLP_QUEUE_SHUT_DOWN' });
});
