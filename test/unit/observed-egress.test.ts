// The sidecar's observed-egress summary: counts per destination, value-free,
// bounded whatever the traffic, and reset on demand.
import t from 'tap';
import fc from 'fast-check';
import { ObservedEgress, type ObservationInput } from '../../proxy/observe/observed-egress';

const identity = { pod: 'p', namespace: 'ns', tenant: 'tn' };

function obs(host: string, port: number, extra: Partial<ObservationInput> = {}): ObservationInput {
  return {
    destination: { host, port, scheme: 'http' },
    shownDestination: `${host}:${port}`,
    method: 'GET',
    decision: 'allowed',
    requestBytes: 10,
    findings: [],
    ...extra,
  };
}

t.test('counts requests, methods, decisions, detectors and bytes per destination', async (t) => {
  let now = Date.parse('2026-01-01T00:00:00Z');
  const o = new ObservedEgress(identity, { now: () => new Date(now) });
  o.record(obs('API.example.com', 443));
  now += 1000;
  o.record(obs('api.example.com', 443, { method: 'post', requestBytes: 90, findings: [{ detector: 'pci.card-number', category: 'pci', severity: 'critical', action: 'monitor' }] }));
  o.record(obs('other.example', 80, { method: 'BREW', decision: 'denied_destination' }));
  const s = o.summary();
  t.match(s, { version: 1, pod: 'p', namespace: 'ns', tenant: 'tn', evicted: 0, unattributed: 0 });
  t.equal(s.destinations.length, 2);
  const api = s.destinations.find((d) => d.host === 'api.example.com')!;
  t.match(api, { port: 443, scheme: 'http', requests: 2, requestBytes: 100, methods: { GET: 1, POST: 1 }, decisions: { allowed: 2 } });
  t.same(api.detectors, [{ detector: 'pci.card-number', category: 'pci', severity: 'critical', actions: { monitor: 1 }, count: 1 }]);
  t.equal(api.firstSeen, '2026-01-01T00:00:00.000Z');
  t.equal(api.lastSeen, '2026-01-01T00:00:01.000Z');
  t.same(s.destinations.find((d) => d.host === 'other.example')!.methods, { OTHER: 1 }, 'unknown verbs do not grow the vocabulary');
});

t.test('a host holding a finding is kept only in its masked form', async (t) => {
  const o = new ObservedEgress(identity);
  o.record(obs('4111111111111111.evil.example', 80, { shownDestination: '****************.evil.example:80' }));
  const text = JSON.stringify(o.summary());
  t.notOk(text.includes('4111111111111111'));
  t.match(o.summary().destinations[0], { host: '****************.evil.example', hostMasked: true });
});

t.test('requests without a destination are counted, not stored', async (t) => {
  const o = new ObservedEgress(identity);
  o.record({ ...obs('x', 1), destination: undefined });
  t.equal(o.summary().unattributed, 1);
  t.equal(o.size(), 0);
});

t.test('the least recently seen destination is evicted and counted', async (t) => {
  const o = new ObservedEgress(identity, { maxEntries: 2 });
  o.record(obs('a', 1));
  o.record(obs('b', 1));
  o.record(obs('a', 1));
  o.record(obs('c', 1));
  const s = o.summary();
  t.same(s.destinations.map((d) => d.host), ['a', 'c']);
  t.equal(s.evicted, 1);
});

t.test('reset forgets everything and restarts the window', async (t) => {
  let now = 0;
  const o = new ObservedEgress(identity, { maxEntries: 1, now: () => new Date(now) });
  o.record(obs('a', 1));
  o.record(obs('b', 1));
  now = 5000;
  o.reset();
  const s = o.summary();
  t.equal(s.destinations.length, 0);
  t.equal(s.evicted, 0);
  t.equal(s.since, new Date(5000).toISOString());
});

t.test('bad limits are refused with the name of the option', async (t) => {
  t.throws(() => new ObservedEgress(identity, { maxEntries: 0 }), /maxEntries must be a positive integer/);
  t.throws(() => new ObservedEgress(identity, { maxDetectorsPerEntry: 1.5 }), /maxDetectorsPerEntry/);
});

t.test('property: entries and detectors stay within bounds, request counts add up', async (t) => {
  const detector = fc.constantFrom('a.one', 'b.two', 'c.three', 'd.four', 'e.five');
  const input = fc.record({
    host: fc.stringMatching(/^[a-z]{1,6}$/),
    port: fc.integer({ min: 1, max: 4 }),
    detectors: fc.array(detector, { maxLength: 4 }),
  });
  fc.assert(
    fc.property(fc.array(input, { maxLength: 200 }), fc.integer({ min: 1, max: 8 }), fc.integer({ min: 1, max: 3 }), (inputs, maxEntries, maxDet) => {
      const o = new ObservedEgress(identity, { maxEntries, maxDetectorsPerEntry: maxDet });
      for (const i of inputs) {
        o.record(obs(i.host, i.port, { findings: i.detectors.map((d) => ({ detector: d, category: 'custom', severity: 'low', action: 'monitor' })) }));
      }
      const s = o.summary();
      if (s.destinations.length > maxEntries) return false;
      if (s.destinations.some((d) => d.detectors.length > maxDet)) return false;
      const distinct = new Set(inputs.map((i) => `${i.host}|${i.port}`)).size;
      if (s.destinations.length + s.evicted !== distinct && s.evicted === 0) return false;
      // Without eviction, every request is accounted for.
      if (s.evicted === 0 && s.destinations.reduce((n, d) => n + d.requests, 0) !== inputs.length) return false;
      return true;
    }),
    { seed: 1717, numRuns: 200 },
  );
  t.pass('bounds held over 200 seeded runs');
});
