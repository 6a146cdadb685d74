// A value split across any chunk boundary must be found, with offsets
// relative to the whole stream: plant every default detector's examples
// across every split point and compare with a one-shot scan.
// Shared by engine-streaming-*.test.ts: one file per engine, so each has
// its own time budget (every split point of every example is a lot of scans).
import type { Test } from 'tap';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { createScanner, type Scanner } from '../../proxy/scan';
import { DEFAULT_DETECTORS } from '../../proxy/scan/detectors';
import type { Finding } from '../../proxy/scan/types';

/**
 * Split points to try inside an example of `length` bytes. Vectorscan gets
 * every one. The RE2 fallback re-scans its carry on every write, which makes
 * long examples (PEM keys are kilobytes) quadratic: it gets every point
 * within 48 bytes of either end, where the boundary logic lives, and 24
 * evenly spaced points in between.
 */
function splitPoints(length: number, every: boolean): number[] {
  const points = new Set<number>();
  for (let k = 0; k <= length; k++) {
    if (every || k <= 48 || length - k <= 48) points.add(k);
  }
  for (let i = 1; i < 24; i++) points.add(Math.round((length * i) / 24));
  return [...points].sort((a, b) => a - b);
}

export function streamingSuite(t: Test, engine: 'vectorscan' | 're2', streamMode: 'auto' | 'carry' = 'auto'): void {
const everything = { enable: DEFAULT_DETECTORS.map((d) => d.id) };
const engines: Scanner[] = [createScanner({ ...everything, engine, streamMode })];

const key = (f: Finding) => `${f.detector}@${f.start}-${f.end}`;

function streamScan(s: Scanner, chunks: Buffer[]): Finding[] {
  const st = s.openStream();
  const out: Finding[] = [];
  for (const c of chunks) out.push(...st.write(c));
  out.push(...st.end());
  return out;
}

for (const scanner of engines) {
  t.test(`${scanner.engine} (${scanner.engineInfo().streams} streams): every example split at every point is found with whole-stream offsets`, async (t) => {
    let cases = 0;
    for (const d of DEFAULT_DETECTORS) {
      for (const example of d.examples.positive) {
        const prefix = 'lorem ipsum dolor {"k": 1}\n'.repeat(3) + ' ';
        const data = Buffer.from(`${prefix}${example} tail text\n`, 'latin1');
        const expected = scanner.scan(data).filter((f) => f.detector === d.id).map(key);
        t.ok(expected.length > 0, `${d.id}: found in one piece`);
        const from = prefix.length;
        const to = prefix.length + example.length;
        const bad: number[] = [];
        for (const k of splitPoints(to - from, engine === 'vectorscan')) {
          const cut = from + k;
          const got = streamScan(scanner, [data.subarray(0, cut), data.subarray(cut)])
            .filter((f) => f.detector === d.id)
            .map(key);
          cases++;
          if (expected.some((e) => !got.includes(e))) bad.push(cut - from);
        }
        t.same(bad, [], `${d.id}: found at every split point`);
      }
    }
    t.comment(`${cases} split cases`);
  });

  t.test(`${scanner.engine}: offsets stay whole-stream after chunks longer than the carry`, async (t) => {
    // Long earlier chunks push the carry's base past 0: a regression here
    // once reported window-relative offsets and lost late findings.
    const filler = Buffer.alloc(3 * 65536 + 17, 'z');
    for (const d of DEFAULT_DETECTORS.filter((x) => !x.optIn)) {
      const example = d.examples.positive[0];
      const data = Buffer.concat([filler, Buffer.from(` ${example} tail\n`, 'latin1')]);
      const expected = scanner.scan(data).filter((f) => f.detector === d.id).map(key);
      const cut = filler.length + 1 + Math.floor(example.length / 2);
      const chunks = [data.subarray(0, 65536), data.subarray(65536, cut), data.subarray(cut)];
      const got = streamScan(scanner, chunks).filter((f) => f.detector === d.id).map(key);
      // A stream may report an extra partial span of the same secret (a key
      // header decided before the rest of the block arrived); it must never
      // miss or shift what the one-piece scan finds.
      t.same(expected.filter((e) => !got.includes(e)), [], `${d.id}: every one-piece finding, same offsets`);
    }
  });

  t.test(`${scanner.engine}: three-way and byte-by-byte splits`, async (t) => {
    const data = Buffer.from('card=4111 1111 1111 1111; key=AKIAIOSFODNN7EXAMPLE; iban GB82WEST12345698765432 end', 'latin1');
    const expected = scanner.scan(data).map(key).sort();
    t.ok(expected.length >= 1, 'one-shot scan finds something');
    const bytes = [...data].map((b) => Buffer.from([b]));
    t.same(streamScan(scanner, bytes).map(key).sort(), expected, 'one byte per chunk');
    t.same(
      streamScan(scanner, [data.subarray(0, 10), data.subarray(10, 11), data.subarray(11, 40), data.subarray(40)]).map(key).sort(),
      expected,
      'uneven chunks',
    );
  });

  t.test(`${scanner.engine}: stream memory is bounded by the detector set, not the body`, async (t) => {
    // Retained memory, not garbage: collect before each reading. Warm up
    // first (engines and Buffer pools allocate once), then check that
    // streaming 16 MiB more does not grow what is retained.
    setFlagsFromString('--expose-gc');
    const gc = runInNewContext('gc') as () => void;
    const st = scanner.openStream();
    const chunk = Buffer.alloc(64 * 1024, 'a');
    for (let i = 0; i < 192; i++) st.write(chunk);
    gc();
    gc();
    const before = process.memoryUsage().arrayBuffers;
    for (let i = 0; i < 192; i++) st.write(chunk); // 12 MiB more through the same stream
    gc();
    gc();
    const grown = process.memoryUsage().arrayBuffers - before;
    st.end();
    t.ok(grown < 1024 * 1024, `retained array-buffer memory grew by ${grown} bytes over the last 12 MiB streamed`);
    t.equal(st.bytes, 384 * 64 * 1024, 'counts bytes');
  });

  t.test(`${scanner.engine}: a stream cannot be used after end()`, async (t) => {
    const st = scanner.openStream();
    st.end();
    t.throws(() => st.write(Buffer.from('x')), { code: 'KDLP_STREAM_CLOSED' });
  });
}
}
