import t from 'tap';
import { Http1OnlyUpstreams } from '../../proxy/tls/upstream-protocols';

t.test('an upstream that answered h2 with HTTP/1.1 is remembered for ttl, then probed again', async (t) => {
  let now = 1000;
  const known = new Http1OnlyUpstreams(60_000, 10, () => now);
  t.notOk(known.has('a'));
  known.remember('a');
  t.ok(known.has('a'));
  t.notOk(known.has('b'), 'per upstream');
  now += 59_999;
  t.ok(known.has('a'));
  now += 1;
  t.notOk(known.has('a'), 'expired: an upstream that started speaking h2 is noticed');
  known.remember('a');
  known.forget('a');
  t.notOk(known.has('a'), 'forgotten when a probe finds h2');
});

t.test('bounded: the least recently remembered upstream goes first', async (t) => {
  const known = new Http1OnlyUpstreams(60_000, 2, () => 0);
  known.remember('a');
  known.remember('b');
  known.remember('a');
  known.remember('c');
  t.ok(known.has('a'));
  t.notOk(known.has('b'));
  t.ok(known.has('c'));
});
