// The streaming view tree on its own: the watermark never passes the end of
// an encoded secret before the secret has been reported, whatever the
// chunking; findings map back to raw offsets; depth beyond maxDecodeDepth is
// reported, not silently skipped.
import t from 'tap';
import fc from 'fast-check';
import { brotliCompressSync, deflateSync, gzipSync } from 'node:zlib';
import { parseContentEncoding } from '../../proxy/scan/decode/content-encoding-header';
import type { ContentCoding } from '../../proxy/scan/decode';
import { feed, scanner, tree as viewTree } from './view-tree-harness';
import { MIN_CHARS } from '../../proxy/inspect-pipeline/views/base64-view';
import { BASE64_ALPHABET } from '../../proxy/scan/decode/base64';
import { nextStretch } from '../../proxy/scan/decode/byte-runs';

const CARD = '4111111111111111';
const ALL = new Set(['gzip', 'deflate', 'br', 'percent', 'json', 'base64', 'multipart']);

function tree(opts: { codings?: ContentCoding[]; maxDepth?: number } = {}) {
  return viewTree({ enabled: ALL, ...opts });
}

const enc = {
  base64: (b: Buffer) => Buffer.from(b.toString('base64')),
  base64url: (b: Buffer) => Buffer.from(b.toString('base64url')),
  percent: (b: Buffer) => Buffer.from([...b].map((x) => `%${x.toString(16).padStart(2, '0')}`).join('')),
  json: (b: Buffer) => Buffer.from([...b].map((x) => `\\u${x.toString(16).padStart(4, '0')}`).join('')),
  gzip: (b: Buffer) => Buffer.from(gzipSync(b).toString('base64')),
};
type Enc = keyof typeof enc;

t.test('the watermark never passes an encoded secret before it is reported (property)', async (t) => {
  await fc.assert(
    fc.asyncProperty(
      // `gzip` is base64(gzip(x)): two layers. At most maxDecodeDepth (3) in all.
      fc
        .array(fc.constantFrom<Enc>('base64', 'base64url', 'percent', 'json', 'gzip'), { minLength: 0, maxLength: 3 })
        .filter((stack) => stack.reduce((n, e) => n + (e === 'gzip' ? 2 : 1), 0) <= 3),
      fc.integer({ min: 0, max: 150_000 }),
      fc.array(fc.integer({ min: 1, max: 40_000 }), { minLength: 1, maxLength: 6 }),
      async (stack, before, sizes) => {
        const token = stack.reduce<Buffer>((v, e) => enc[e](v), Buffer.from(`card=${CARD};`));
        const body = Buffer.concat([Buffer.alloc(before, 'a b '), Buffer.from(' "'), token, Buffer.from('" '), Buffer.alloc(3000, 'c d ')]);
        const tokenEnd = before + 2 + token.length;
        const { views, found, problems } = tree();
        let breached = false;
        await feed(views, body, sizes, () => {
          if (found.length === 0 && views.safe >= tokenEnd) breached = true;
        });
        if (breached) throw new Error(`watermark passed the secret before it was found: [${stack.join('>')}]`);
        if (!found.some((f) => f.finding.detector === 'pci.card-number')) throw new Error(`not found: [${stack.join('>')}] ${JSON.stringify(problems)}`);
        const f = found[0].finding;
        if (f.start < before - 4096 || f.end > tokenEnd + 4096) throw new Error(`finding mapped to [${f.start}, ${f.end}), token at [${before}, ${tokenEnd})`);
      },
    ),
    { seed: 4242, numRuns: 60 },
  );
  t.pass('held over 60 seeded runs');
});

t.test('content codings are undone layer by layer, and count toward the depth', async (t) => {
  const plain = Buffer.concat([Buffer.alloc(100_000, 'x y '), Buffer.from(` card=${CARD} `), Buffer.alloc(100, 'z ')]);
  const gz = gzipSync(plain);
  t.notOk(gz.includes(CARD));
  const one = tree({ codings: ['gzip'] });
  await feed(one.views, gz, [4096]);
  t.match(one.found[0], { finding: { detector: 'pci.card-number', view: 'gzip' }, unredactable: /compressed body/ });

  const gzgz = gzipSync(gz);
  const shallow = tree({ codings: ['gzip', 'gzip'], maxDepth: 1 });
  await feed(shallow.views, gzgz, [4096]);
  t.equal(shallow.found.length, 0);
  t.match(shallow.problems[0], { code: 'KDLP_DECODE_DEPTH', reason: /maxDecodeDepth \(1\)/ });
});

// Regression: the header lists codings in the order they were applied and
// the parser returns them outermost first; the tree once reversed them a
// second time, so `deflate, br` (deflate, then br) was undone deflate first
// and failed as corrupt.
t.test('mixed stacked codings from the header are undone outermost first', async (t) => {
  const plain = Buffer.concat([Buffer.alloc(50_000, 'q w '), Buffer.from(` card=${CARD} `), Buffer.alloc(100, 'z ')]);
  for (const [header, encode] of [
    ['deflate, br', (b: Buffer) => brotliCompressSync(deflateSync(b))],
    ['br, gzip', (b: Buffer) => gzipSync(brotliCompressSync(b))],
  ] as const) {
    const stacked = tree({ codings: parseContentEncoding(header) });
    await feed(stacked.views, encode(plain), [1000, 7, 4096]);
    t.same(stacked.problems, [], `${header}: no decoding problem`);
    t.match(stacked.found[0], { finding: { detector: 'pci.card-number' } }, `${header}: the card is found`);
  }
});

t.test('a fourth layer at maxDecodeDepth 3 is reported as uninspectable, never skipped silently', async (t) => {
  const token = enc.base64(enc.base64(enc.base64(enc.base64(Buffer.from(`card=${CARD};`)))));
  const { views, found, problems } = tree();
  await feed(views, Buffer.concat([Buffer.from('x "'), token, Buffer.from('" y')]), [7]);
  t.equal(found.length, 0);
  t.match(problems, [{ code: 'KDLP_DECODE_DEPTH', reason: /base64 nested deeper than inspection.maxDecodeDepth \(3\)/ }]);
});

t.test('a card inside a long base64 run maps back to exactly the groups that encode it, however the run is chunked (property)', async (t) => {
  // Long runs are decoded in bulk (whole groups, one native call), short
  // stretches and chunk edges group by group; both must give the same map.
  await fc.assert(
    fc.asyncProperty(
      fc.integer({ min: 0, max: 3000 }),
      fc.integer({ min: 0, max: 3000 }),
      fc.boolean(),
      fc.array(fc.integer({ min: 1, max: 5000 }), { minLength: 1, maxLength: 5 }),
      async (before, after, url, sizes) => {
        const decoded = Buffer.from(`${'x'.repeat(before)}card=${CARD};${'y'.repeat(after)}`);
        const encoded = decoded.toString(url ? 'base64url' : 'base64');
        const body = Buffer.from(` "${encoded}" `);
        const { views, found } = tree();
        await feed(views, body, sizes);
        const cardAt = before + 'card='.length;
        // A final partial group ends at its last character: `=` padding encodes nothing.
        const want = [2 + Math.floor(cardAt / 3) * 4, 2 + Math.min(Math.ceil((cardAt + CARD.length) / 3) * 4, encoded.replace(/=+$/, '').length)];
        const got = found.filter((f) => f.finding.view === 'base64').map((f) => [f.finding.start, f.finding.end]);
        if (got.length !== 1 || got[0][0] !== want[0] || got[0][1] !== want[1]) {
          throw new Error(`card in base64 mapped to ${JSON.stringify(got)}, want ${JSON.stringify(want)}`);
        }
      },
    ),
    { seed: 1409, numRuns: 120 },
  );
  t.pass('held over 120 seeded runs');
});

t.test('a decoded segment still open at the end of a chunk holds the body back by tailBytes at most', async (t) => {
  // A client may send part of a body and wait for the upstream before the
  // rest: a base64-looking run that has not ended must not hold it all.
  const { views } = tree();
  const first = Buffer.alloc(4096, 'a');
  const work = views.write(first);
  if (work) await work;
  const tail = Math.min(scanner.maxMatchWidth, 65536);
  t.ok(views.safe >= first.length - 2 * tail, `watermark ${views.safe} of ${first.length} (tailBytes ${tail})`);
  const done = views.end();
  if (done) await done;
  t.equal(views.safe, first.length);
});

t.test('a clean body releases everything and reports nothing', async (t) => {
  const body = Buffer.from('{"event":"page_view","path":"/catalog/items","ua":"bench"}\n'.repeat(20_000));
  const { views, found, problems } = tree();
  await feed(views, body, [65536]);
  t.equal(views.safe, body.length);
  t.same(found, []);
  t.same(problems, []);
});

t.test('base64 runs are found by looking ahead, at the same starts as a byte-by-byte walk (property)', async (t) => {
  // The plain walk it replaced: the first maximal run at or after `from` with
  // MIN_CHARS alphabet characters, or one that reaches the end of the chunk.
  const alphabet = /[A-Za-z0-9+/_-]/;
  const reference = (s: string, from: number, minChars: number, openEnded: boolean): number => {
    for (let i = from; i < s.length; ) {
      if (!alphabet.test(s[i])) {
        i++;
        continue;
      }
      let e = i;
      while (e < s.length && alphabet.test(s[e])) e++;
      if (e - i >= minChars || (openEnded && e === s.length)) return i;
      i = e;
    }
    return -1;
  };
  fc.assert(
    fc.property(
      fc.array(fc.oneof(fc.constantFrom(' ', '"', '=', '\n', ':', '.'), fc.constantFrom('a', 'Z', '0', '+', '/', '-', '_'), fc.stringMatching(/^[A-Za-z0-9]{10,24}$/)), { maxLength: 60 }),
      fc.nat(40),
      fc.constantFrom(MIN_CHARS, 20),
      fc.boolean(),
      (parts, skip, minChars, openEnded) => {
        const text = parts.join('');
        // `from` follows a non-alphabet byte, as it does in the view.
        let from = Math.min(skip, text.length);
        while (from > 0 && alphabet.test(text[from - 1])) from--;
        return nextStretch(BASE64_ALPHABET, Buffer.from(text, 'latin1'), from, minChars, openEnded) === reference(text, from, minChars, openEnded);
      },
    ),
    { seed: 1204, numRuns: 2000 },
  );
  t.pass('same start as the plain walk on 2000 texts');
});
