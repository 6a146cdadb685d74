import t from 'tap';
import { cachingResolver } from '../../proxy/http/cached-resolver';
import type { NameResolver } from '../../proxy/http/name-resolver';

/** A resolver that counts questions and answers from a table (a function answers differently each time). */
function countingDns(answers: Record<string, () => string[]>): { resolver: NameResolver; asked: string[] } {
  const asked: string[] = [];
  return {
    asked,
    resolver: async (name) => {
      asked.push(name);
      const answer = answers[name.toLowerCase()];
      if (answer === undefined) throw Object.assign(new Error('not found'), { code: 'ENOTFOUND' });
      return answer();
    },
  };
}

function clock(): { now: () => number; advance(ms: number): void } {
  let at = 1_000_000;
  return { now: () => at, advance: (ms) => (at += ms) };
}

t.test('an answer is reused until its time is up, then asked again', async (t) => {
  let serial = 0;
  const dns = countingDns({ 'api.example': () => [`192.0.2.${++serial}`] });
  const c = clock();
  const resolve = cachingResolver(dns.resolver, { ttlMs: 5000, maxNames: 8, now: c.now });
  t.same(await resolve('api.example'), ['192.0.2.1']);
  c.advance(4999);
  t.same(await resolve('api.example'), ['192.0.2.1'], 'reused inside the time');
  t.same(await resolve('API.Example'), ['192.0.2.1'], 'names are case-insensitive');
  t.equal(dns.asked.length, 1);
  c.advance(1);
  t.same(await resolve('api.example'), ['192.0.2.2'], 'asked again once the time is up');
  t.equal(dns.asked.length, 2);
});

t.test('concurrent lookups of one name share one question', async (t) => {
  const dns = countingDns({ 'api.example': () => ['192.0.2.7'] });
  const resolve = cachingResolver(dns.resolver, { ttlMs: 5000, maxNames: 8 });
  const answers = await Promise.all([resolve('api.example'), resolve('api.example'), resolve('api.example')]);
  t.same(answers, [['192.0.2.7'], ['192.0.2.7'], ['192.0.2.7']]);
  t.same(dns.asked, ['api.example']);
});

t.test('failures and empty answers are not remembered', async (t) => {
  let fail = true;
  let empty = true;
  const dns = countingDns({
    'flaky.example': () => {
      if (fail) throw Object.assign(new Error('timeout'), { code: 'EAI_AGAIN' });
      return ['192.0.2.9'];
    },
    'empty.example': () => (empty ? [] : ['192.0.2.10']),
  });
  const resolve = cachingResolver(dns.resolver, { ttlMs: 60_000, maxNames: 8 });
  await t.rejects(resolve('flaky.example'), { code: 'EAI_AGAIN' });
  fail = false;
  t.same(await resolve('flaky.example'), ['192.0.2.9'], 'the next request asks again');
  t.same(await resolve('empty.example'), []);
  empty = false;
  t.same(await resolve('empty.example'), ['192.0.2.10']);
  t.same(dns.asked, ['flaky.example', 'flaky.example', 'empty.example', 'empty.example']);
});

t.test('at most maxNames are remembered, the least recently used forgotten first', async (t) => {
  const dns = countingDns({ a: () => ['192.0.2.1'], b: () => ['192.0.2.2'], c: () => ['192.0.2.3'] });
  const resolve = cachingResolver(dns.resolver, { ttlMs: 60_000, maxNames: 2 });
  await resolve('a');
  await resolve('b');
  await resolve('a'); // a is now the most recently used
  await resolve('c'); // forgets b
  t.same(dns.asked, ['a', 'b', 'c']);
  await resolve('a');
  t.same(dns.asked, ['a', 'b', 'c'], 'a was kept');
  await resolve('b');
  t.same(dns.asked, ['a', 'b', 'c', 'b'], 'b was forgotten');
});

t.test('a time of 0 asks for every request', async (t) => {
  const dns = countingDns({ 'api.example': () => ['192.0.2.1'] });
  const resolve = cachingResolver(dns.resolver, { ttlMs: 0, maxNames: 8 });
  t.equal(resolve, dns.resolver, 'the resolver itself');
  await resolve('api.example');
  await resolve('api.example');
  t.equal(dns.asked.length, 2);
});

t.test('callers cannot change a remembered answer', async (t) => {
  const dns = countingDns({ 'api.example': () => ['192.0.2.1'] });
  const resolve = cachingResolver(dns.resolver, { ttlMs: 60_000, maxNames: 8 });
  await resolve('api.example');
  const reused = await resolve('api.example');
  t.throws(() => reused.push('203.0.113.66'), TypeError);
  t.same(await resolve('api.example'), ['192.0.2.1']);
});
