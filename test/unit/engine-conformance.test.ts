// Both engines must report the same findings on the same input: the proxy
// may run either (RE2 when the addon is missing) and users must not see a
// different verdict depending on which one loaded.
import t from 'tap';
import { createScanner, type Scanner } from '../../proxy/scan';
import { DEFAULT_DETECTORS } from '../../proxy/scan/detectors';
import { loadNativeBinding } from '../../proxy/native';
import { generateCorpus } from '../../bench/corpus';
import type { Finding } from '../../proxy/scan/types';

const native = loadNativeBinding();
if (!native.ok) {
  t.fail(`Vectorscan addon not loaded, conformance cannot run: ${native.reason}`);
  t.end();
} else {
  // Every library detector, opt-in ones included, so all examples are exercised.
  const everything = { enable: DEFAULT_DETECTORS.map((d) => d.id) };
  const vs = createScanner({ ...everything, engine: 'vectorscan' });
  const re2 = createScanner({ ...everything, engine: 're2' });

  const key = (f: Finding) => `${f.detector}@${f.start}-${f.end}:${f.masked}`;
  const keys = (s: Scanner, data: Buffer) => s.scan(data).map(key).sort();

  t.test('engines report which engine they are', async (t) => {
    t.equal(vs.engine, 'vectorscan');
    t.equal(re2.engine, 're2');
    t.equal(re2.fallbackReason, 'RE2 engine requested');
  });

  t.test('every positive example is found by its detector, on both engines', async (t) => {
    for (const d of DEFAULT_DETECTORS) {
      for (const example of d.examples.positive) {
        const data = Buffer.from(example, 'latin1');
        for (const s of [vs, re2]) {
          const found = s.scan(data).filter((f) => f.detector === d.id);
          t.ok(found.length > 0, `${s.engine}: ${d.id} finds its positive example #${d.examples.positive.indexOf(example)}`);
        }
      }
    }
  });

  t.test('no negative example is found by its detector, on both engines', async (t) => {
    for (const d of DEFAULT_DETECTORS) {
      for (const example of d.examples.negative) {
        const data = Buffer.from(example, 'latin1');
        for (const s of [vs, re2]) {
          const found = s.scan(data).filter((f) => f.detector === d.id);
          t.same(found.map((f) => f.masked), [], `${s.engine}: ${d.id} ignores negative example #${d.examples.negative.indexOf(example)}`);
        }
      }
    }
  });

  t.test('both engines give identical findings on every example', async (t) => {
    for (const d of DEFAULT_DETECTORS) {
      for (const example of [...d.examples.positive, ...d.examples.negative]) {
        const data = Buffer.from(`x ${example} y`, 'latin1');
        t.same(keys(vs, data), keys(re2, data), `${d.id}: engines agree`);
      }
    }
  });

  t.test('both engines give identical findings on a mixed-traffic corpus', async (t) => {
    const { data, planted } = generateCorpus(2 * 1024 * 1024, vs.detectors, 7);
    const a = keys(vs, data);
    const b = keys(re2, data);
    t.same(a, b, 'same findings');
    t.ok(a.length >= planted.length * 0.9, `corpus findings (${a.length}) cover the plants (${planted.length})`);
  });

  t.test('findings never carry the raw value', async (t) => {
    for (const d of DEFAULT_DETECTORS.filter((x) => x.category === 'pci' || x.id.includes('aws'))) {
      for (const example of d.examples.positive) {
        for (const f of vs.scan(Buffer.from(example, 'latin1'))) {
          const raw = example.slice(f.start, f.end);
          if (raw.length >= 12) t.not(f.masked, raw, `${d.id}: masked evidence differs from the value`);
          t.match(f.masked, /\*/, `${d.id}: evidence is masked`);
        }
      }
    }
  });
}
