// Pattern width in production: validation refuses, on both engines, a pattern
// that can match the empty string or is wider than MAX_PATTERN_WIDTH; the RE2
// engine sizes its stream carry from the detector set's widest pattern; and a
// custom detector as wide as the limit is found identically by both engines
// in a body streamed in arbitrary chunks.
import t from 'tap';
import fc from 'fast-check';
import { createScanner, re2CarryBytes, type Scanner } from '../../proxy/scan';
import { lintPattern } from '../../proxy/scan/pattern-lint';
import { analysePattern, MAX_BYTES_PER_CHARACTER, MAX_PATTERN_WIDTH } from '../../proxy/scan/pattern-width';
import type { Finding } from '../../proxy/scan/types';
import { loadNativeBinding } from '../../proxy/native';
import { streamedKeys } from './stream-cuts';

const ENGINES = loadNativeBinding().ok ? (['re2', 'vectorscan'] as const) : (['re2'] as const);
if (ENGINES.length === 1) t.comment('Vectorscan addon not loaded: only the RE2 engine is checked here');

t.test('the width analysis', async (t) => {
  t.same(analysePattern(String.raw`\bab[0-9]{2,4}(?:x|yz)?\b`).width, { min: 4, max: 8 });
  t.same(analysePattern('(?:ab){3,5}c').width, { min: 7, max: 11 });
  t.same(analysePattern('a|bcd|').width, { min: 0, max: 3 });
  t.equal(analysePattern('a{2,}').width.max, Infinity);
});

t.test('lint: empty matches and over-wide patterns are refused with the reason', async (t) => {
  for (const empty of ['[a-z]{0,4}', 'a?', '(?:x|)', '^', String.raw`\b`]) {
    t.match(lintPattern(empty), [{ reason: /can match the empty string/ }], empty);
  }
  t.match(lintPattern(`x[a-z]{${MAX_PATTERN_WIDTH}}`), [{ reason: new RegExp(`up to ${MAX_PATTERN_WIDTH + 1} characters; the limit is ${MAX_PATTERN_WIDTH}`) }]);
  t.same(lintPattern(`[a-z]{${MAX_PATTERN_WIDTH}}`), [], 'exactly the limit is fine');
  t.same(lintPattern(String.raw`\bORD-[0-9]{6}\b`), []);
  t.match(lintPattern('a+'), [{ reason: /unbounded repeat/ }], 'unbounded is reported once, as unbounded');
  t.equal(lintPattern('a+').length, 1);
});

for (const engine of ENGINES) {
  t.test(`${engine}: a custom detector that matches the empty string or is too wide is refused`, async (t) => {
    t.throws(() => createScanner({ engine, enable: [], custom: [{ id: 'maybe', pattern: 'x?' }] }), {
      code: 'KDLP_DETECTOR_INVALID',
      detectorId: 'custom.maybe',
      message: /empty string/,
    });
    t.throws(() => createScanner({ engine, enable: [], custom: [{ id: 'huge', pattern: `H[A-Z]{${MAX_PATTERN_WIDTH}}` }] }), {
      code: 'KDLP_DETECTOR_INVALID',
      message: /the limit is 4096/,
    });
  });
}

t.test('the RE2 carry follows the detector set, not a fixed 8 KiB', async (t) => {
  const small = createScanner({ engine: 're2', enable: [], custom: [{ id: 'order', pattern: 'ORD-[0-9]{6}' }] });
  t.equal(re2CarryBytes([{ source: 'ORD-[0-9]{6}' }]), 10 * MAX_BYTES_PER_CHARACTER + 1);
  t.equal(small.maxMatchWidth, 10 * MAX_BYTES_PER_CHARACTER, 'a 10-character detector keeps 40 bytes');
  // RE2 caps one repeat at 1000, so a wide pattern is a sequence of repeats.
  const wide = createScanner({ engine: 're2', enable: [], custom: [{ id: 'wide', pattern: 'W[A-Z]{1000}[A-Z]{1000}[A-Z]{1000}[A-Z]{1000}[A-Z]{95}' }] });
  t.equal(wide.maxMatchWidth, MAX_PATTERN_WIDTH * MAX_BYTES_PER_CHARACTER, 'the widest allowed detector keeps its UTF-8 width');
  t.ok(wide.maxMatchWidth > 8192, 'wider than the old fixed carry');
});

// A token as wide as the limit allows (3 + 2000..4089 + 4 characters), with
// a minimum far above most chunk sizes; RE2 caps one repeat at 1000.
const WIDE = { id: 'wide-token', pattern: 'WT-[A-Za-z0-9]{1000}[A-Za-z0-9]{1000}[A-Za-z0-9]{0,1000}[A-Za-z0-9]{0,1000}[A-Za-z0-9]{0,89}-END' };
const WIDEST_BODY = 4089;
const key = (f: Finding) => `${f.detector}@${f.start}-${f.end}`;

function streamed(scanner: Scanner, body: Buffer, cuts: number[]): string[] {
  return streamedKeys(scanner, body, cuts, key).keys;
}

t.test('a wide custom detector: both engines find the same spans in a body streamed in any chunks', async (t) => {
  t.equal(analysePattern(WIDE.pattern).width.max, MAX_PATTERN_WIDTH, 'the detector is exactly as wide as allowed');
  const scanners = ENGINES.map((engine) => createScanner({ engine, enable: [], custom: [WIDE] }));
  const token = (n: number, c: string) => `WT-${c.repeat(n)}-END`;
  // Sizes and cut points only: a failure prints a small counterexample, not the body.
  const caseArb = fc.record({
    first: fc.integer({ min: 2000, max: WIDEST_BODY }),
    second: fc.integer({ min: 2000, max: WIDEST_BODY }),
    gap: fc.integer({ min: 1, max: 300 }),
    tooShort: fc.integer({ min: 1, max: 1999 }),
    cuts: fc.uniqueArray(fc.integer({ min: 1, max: 12_000 }), { maxLength: 12 }),
  });
  let found = 0;
  fc.assert(
    fc.property(caseArb, (c) => {
      const body = Buffer.from(`head ${token(c.first, 'a')}${' '.repeat(c.gap)}${token(c.tooShort, 'b')} ${token(c.second, 'Z')} tail`, 'latin1');
      const cuts = c.cuts.filter((x) => x < body.length).sort((a, b) => a - b);
      const oneShot = scanners.map((s) => s.scan(body).map(key).sort());
      for (let i = 0; i < scanners.length; i++) {
        const got = streamed(scanners[i]!, body, cuts);
        if (JSON.stringify(got) !== JSON.stringify(oneShot[i])) {
          throw new Error(`${scanners[i]!.engine}: streamed ${JSON.stringify(got)} != one-shot ${JSON.stringify(oneShot[i])}`);
        }
      }
      if (JSON.stringify(oneShot[0]) !== JSON.stringify(oneShot[oneShot.length - 1])) {
        throw new Error(`engines disagree: ${JSON.stringify(oneShot)}`);
      }
      if (oneShot[0]!.length !== 2) throw new Error(`expected the two long tokens, got ${JSON.stringify(oneShot[0])}`);
      found += oneShot[0]!.length;
    }),
    { seed: 4096, numRuns: 12 },
  );
  t.ok(found > 0, `${found} wide findings agreed across ${ENGINES.join(' and ')}, streamed and one-shot`);
});
