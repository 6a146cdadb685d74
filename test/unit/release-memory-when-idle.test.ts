import t from 'tap';
import { ReleaseMemoryWhenIdle, type IdleActivity } from '../../proxy/server/release-memory-when-idle';

/** Traffic the test controls, and a release that counts its calls. */
function setup(): { activity: IdleActivity & { exchangesStarted: number; activeExchanges: number }; releases: Array<[number, number]>; watcher: ReleaseMemoryWhenIdle; calls: () => number } {
  const activity = { exchangesStarted: 0, activeExchanges: 0 };
  const releases: Array<[number, number]> = [];
  let calls = 0;
  let rss = 100;
  const watcher = new ReleaseMemoryWhenIdle({
    activity,
    quietMs: 10_000,
    release: () => {
      calls++;
      rss -= 10;
      return true;
    },
    rss: () => rss,
    onRelease: (before, after) => releases.push([before, after]),
  });
  return { activity, releases, watcher, calls: () => calls };
}

t.test('a process that never served anything is not trimmed (start-up already was)', async (t) => {
  const { watcher, calls } = setup();
  for (let i = 0; i < 5; i++) watcher.tick();
  t.equal(calls(), 0);
});

t.test('memory goes back once, one whole quiet interval after traffic stops', async (t) => {
  const { activity, watcher, calls, releases } = setup();
  activity.exchangesStarted = 40;
  watcher.tick(); // traffic seen during this interval
  t.equal(calls(), 0, 'not while requests are still arriving');
  activity.exchangesStarted = 90;
  watcher.tick();
  t.equal(calls(), 0);
  watcher.tick(); // a whole interval without a new exchange
  t.equal(calls(), 1);
  t.same(releases, [[100, 90]], 'RSS before and after are reported');
  watcher.tick();
  watcher.tick();
  t.equal(calls(), 1, 'a long quiet period releases once, not at every tick');
  activity.exchangesStarted = 91;
  watcher.tick();
  watcher.tick();
  t.equal(calls(), 2, 'the next burst earns the next release');
});

t.test('a long exchange still in flight (a tunnel, an upload) holds the release back', async (t) => {
  const { activity, watcher, calls } = setup();
  activity.exchangesStarted = 1;
  activity.activeExchanges = 1;
  watcher.tick();
  watcher.tick();
  watcher.tick();
  t.equal(calls(), 0);
  activity.activeExchanges = 0;
  watcher.tick();
  t.equal(calls(), 1);
});

t.test('quietMs 0 turns it off; the timer never keeps the process alive', async (t) => {
  const activity = { exchangesStarted: 0, activeExchanges: 0 };
  const off = new ReleaseMemoryWhenIdle({ activity, quietMs: 0, release: () => true });
  off.start();
  t.equal((off as unknown as { timer?: NodeJS.Timeout }).timer, undefined);
  const on = new ReleaseMemoryWhenIdle({ activity, quietMs: 60_000, release: () => true });
  on.start();
  const timer = (on as unknown as { timer?: NodeJS.Timeout }).timer;
  t.ok(timer);
  t.equal(timer?.hasRef(), false);
  on.stop();
});
