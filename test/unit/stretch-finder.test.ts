// The libhs-backed stretch finder must answer exactly as the JavaScript
// walk (nextStretch) does, for every text, start and end mode: the base64
// view decides what to decode from it, so a different answer is a run not
// scanned. Texts are long enough for the native part (past LOOKAHEAD) and
// mix sparse and dense runs, runs across the look-ahead's end and at the
// end of the buffer.
import t from 'tap';
import fc from 'fast-check';
import { BASE64_ALPHABET } from '../../proxy/scan/decode/base64';
import { byteClass, nextStretch } from '../../proxy/scan/decode/byte-runs';
import { LOOKAHEAD, StretchFinder, classExpression } from '../../proxy/scan/decode/stretch-finder';
import { loadNativeBinding } from '../../proxy/native';

const MIN = 16;

t.test('a class becomes hex escapes and ranges', async (t) => {
  t.equal(classExpression(byteClass((b) => b >= 0x30 && b <= 0x39)), '[\\x30-\\x39]');
  t.equal(classExpression(byteClass((b) => b === 0x2b || b === 0x2f || b === 0xff)), '[\\x2b\\x2f\\xff]');
  t.equal(classExpression(BASE64_ALPHABET), '[\\x2b\\x2d\\x2f-\\x39\\x41-\\x5a\\x5f\\x61-\\x7a]');
});

/** Text of gaps and runs: a run is `len` alphabet characters, a gap is `len` bytes outside it. */
const piece = fc.record({ run: fc.integer({ min: 0, max: 40 }), gap: fc.integer({ min: 1, max: 3000 }) });
const text = fc.array(piece, { minLength: 1, maxLength: 12 }).map((pieces) => {
  const parts: Buffer[] = [];
  for (const { run, gap } of pieces) {
    parts.push(Buffer.alloc(gap, 0x2c)); // ','
    parts.push(Buffer.from('Ab0+/_-z9'.repeat(Math.ceil(run / 9)).slice(0, run)));
  }
  return Buffer.concat(parts);
});

const native = loadNativeBinding();
if (!native.ok) {
  t.fail(`Vectorscan addon not loaded: ${native.reason}`);
} else {
  const finder = new StretchFinder(BASE64_ALPHABET, MIN);

  t.test('every stretch, in order, as the JavaScript walk finds them', async (t) => {
    fc.assert(
      fc.property(text, fc.boolean(), fc.nat({ max: 64 }), (src, openEnded, skip) => {
        const walk = (find: (from: number) => number): number[] => {
          const starts: number[] = [];
          for (let from = Math.min(skip, src.length); ; ) {
            const s = find(from);
            if (s < 0) return starts;
            starts.push(s);
            let e = s;
            while (e < src.length && BASE64_ALPHABET[src[e]] === 1) e++;
            from = e;
          }
        };
        const expected = walk((from) => nextStretch(BASE64_ALPHABET, src, from, MIN, openEnded));
        const got = walk((from) => finder.next(src, from, openEnded));
        if (got.join(',') !== expected.join(',')) {
          throw new Error(`length ${src.length}, openEnded ${openEnded}: got ${got.join(',')} expected ${expected.join(',')}`);
        }
      }),
      { seed: 4242, numRuns: 300 },
    );
  });

  t.test('runs placed at the look-ahead edge and at the end of the buffer', async (t) => {
    const run = Buffer.from('QUJDREVGR0hJSktMTU5PUFFSU1RVVldYWVo');
    for (const at of [LOOKAHEAD - 20, LOOKAHEAD - 16, LOOKAHEAD - 1, LOOKAHEAD, LOOKAHEAD + 3]) {
      const src = Buffer.alloc(LOOKAHEAD * 3, 0x20);
      run.copy(src, at);
      t.equal(finder.next(src, 0, false), at, `a run at ${at}`);
    }
    const tail = Buffer.alloc(LOOKAHEAD * 3, 0x20);
    run.subarray(0, 5).copy(tail, tail.length - 5);
    t.equal(finder.next(tail, 0, true), tail.length - 5, 'a short run reaching the end, open-ended');
    t.equal(finder.next(tail, 0, false), -1, '...and not otherwise');
  });

  t.test('without the addon the JavaScript walk answers', async (t) => {
    const walkOnly = new StretchFinder(BASE64_ALPHABET, MIN, false);
    const src = Buffer.concat([Buffer.alloc(LOOKAHEAD * 2, 0x2c), Buffer.from('QUJDREVGR0hJSktMTU5PUFFSU1RVVldYWVo')]);
    t.equal(walkOnly.next(src, 0, false), LOOKAHEAD * 2);
  });
}
