// Profile validation (the sidecar's own parse and compile) and the status
// conditions it turns into.
import t from 'tap';
import { validateProfile } from '../../operator/decide/validate-profile';
import { desiredProfileStatus, sameStatus } from '../../operator/decide/profile-status';
import type { ProfileView } from '../../operator/model/views';

const profile = (spec: unknown, generation = 1): ProfileView => ({
  kind: 'SecurityProfile',
  name: 'p',
  namespace: 'shop',
  uid: 'u',
  generation,
  spec,
});

t.test('a valid profile compiles; the detector count is what runs', async (t) => {
  const v = validateProfile(profile({ mode: 'Protect', detectors: { enable: ['pci'], custom: [{ id: 'order', pattern: 'ORD-[0-9]{8}' }] } }));
  t.equal(v.ok, true);
  if (!v.ok) return;
  t.ok(v.detectors > 1, 'pci detectors plus the custom one');
  const all = validateProfile(profile({}));
  t.ok(all.ok && all.detectors > v.detectors, 'the default selection runs more');
});

t.test('a custom pattern that cannot compile: DetectorCompileFailed naming the detector', async (t) => {
  const v = validateProfile(profile({ detectors: { custom: [{ id: 'ok', pattern: 'fine[0-9]{2}' }, { id: 'broken', pattern: 'abc(' }] } }));
  t.equal(v.ok, false);
  if (v.ok) return;
  t.equal(v.reason, 'DetectorCompileFailed');
  t.match(v.message, /spec\.detectors\.custom\[1\]\.pattern: detector "custom\.broken"/);
  t.notMatch(v.message, /custom\.ok/);
});

t.test('rules the CRD cannot express: InvalidSpec naming the field', async (t) => {
  const v = validateProfile(profile({ egress: { deny: [{ cidr: '10.0.0.0/33' }] }, detectors: { enable: ['pii.nope'] } }));
  t.equal(v.ok, false);
  if (v.ok) return;
  t.equal(v.reason, 'InvalidSpec');
  t.match(v.message, /spec\.egress\.deny\[0\]\.cidr/);
  t.match(v.message, /spec\.detectors\.enable\[0\]: unknown detector id/);
});

const now = new Date('2026-01-02T03:04:05.678Z');

t.test('status of a good profile: Ready and DetectorsCompiled True, counts, observedGeneration', async (t) => {
  const s = desiredProfileStatus({ generation: 4, validation: { ok: true, detectors: 12, engine: 'vectorscan' }, namespaces: 3, injectedPods: 5, now });
  t.same(s, {
    observedGeneration: 4,
    conditions: [
      { type: 'Ready', status: 'True', reason: 'Rendered', message: 'rendered for 3 namespaces', observedGeneration: 4, lastTransitionTime: '2026-01-02T03:04:05Z' },
      { type: 'DetectorsCompiled', status: 'True', reason: 'Compiled', message: '12 detectors compiled (vectorscan)', observedGeneration: 4, lastTransitionTime: '2026-01-02T03:04:05Z' },
    ],
    detectors: 12,
    namespaces: 3,
    injectedPods: 5,
  });
});

t.test('a bad detector: both conditions False; no detector count', async (t) => {
  const s = desiredProfileStatus({
    generation: 2,
    validation: { ok: false, reason: 'DetectorCompileFailed', message: 'detector "custom.x": bad' },
    namespaces: 1,
    injectedPods: 0,
    now,
  });
  t.same(s.conditions!.map((c) => [c.type, c.status, c.reason]), [
    ['Ready', 'False', 'DetectorCompileFailed'],
    ['DetectorsCompiled', 'False', 'DetectorCompileFailed'],
  ]);
  t.match(s.conditions![1].message, 'detector "custom.x": bad');
  t.equal(s.detectors, undefined);
  const invalid = desiredProfileStatus({ generation: 2, validation: { ok: false, reason: 'InvalidSpec', message: 'm' }, namespaces: 0, injectedPods: 0, now });
  t.same(invalid.conditions!.map((c) => [c.type, c.status, c.reason]), [
    ['Ready', 'False', 'InvalidSpec'],
    ['DetectorsCompiled', 'Unknown', 'NotCompiled'],
  ]);
});

t.test('lastTransitionTime moves only when a condition flips; sameStatus sees real changes only', async (t) => {
  const good = { ok: true as const, detectors: 3, engine: 're2' };
  const first = desiredProfileStatus({ generation: 1, validation: good, namespaces: 1, injectedPods: 0, now });
  const later = new Date('2026-02-01T00:00:00Z');
  const again = desiredProfileStatus({ generation: 1, validation: good, namespaces: 1, injectedPods: 0, now: later, previous: first });
  t.ok(sameStatus(first, again), 'nothing changed: nothing to write');
  const more = desiredProfileStatus({ generation: 1, validation: good, namespaces: 2, injectedPods: 0, now: later, previous: first });
  t.notOk(sameStatus(first, more));
  t.equal(more.conditions![0].lastTransitionTime, first.conditions![0].lastTransitionTime, 'still True: time kept');
  const broken = desiredProfileStatus({
    generation: 2,
    validation: { ok: false, reason: 'DetectorCompileFailed', message: 'x' },
    namespaces: 2,
    injectedPods: 0,
    now: later,
    previous: more,
  });
  t.equal(broken.conditions![0].lastTransitionTime, '2026-02-01T00:00:00Z', 'flipped: time moves');
  t.notOk(sameStatus(undefined, first));
});
