// The Vectorscan engine splits a detector set into up to two databases
// by what the patterns' syntax says about scanning cost
// (pattern-partition.ts). The split may change speed only: every pattern
// lands in exactly one database, and a split scanner finds exactly what a
// one-database scanner finds, in block scans and in streams cut anywhere.
import t from 'tap';
import fc from 'fast-check';
import { createScanner, type Scanner } from '../../proxy/scan';
import { DEFAULT_DETECTORS } from '../../proxy/scan/detectors';
import { compilePatterns } from '../../proxy/scan/detector-set';
import { partitionPatterns, patternGroup, patternSyntax } from '../../proxy/scan/engines/pattern-partition';
import { DatabaseSet } from '../../proxy/scan/engines/database-set';
import { compileDatabase, loadNativeBinding } from '../../proxy/native';
import { generateCorpus } from '../../bench/corpus';
import { findingKey, streamedKeys } from './stream-cuts';

t.test('groups follow the syntax: classes with neither a literal to look for first nor runs through words go apart', async (t) => {
  const cases: Array<[string, boolean, string]> = [
    ['AKIA[0-9A-Z]{16}', false, 'main'],
    ['xox[bp]-[0-9]{10,13}-[a-zA-Z0-9]{24,32}', false, 'main'],
    [';[0-9]{13,19}=[0-9]{7,30}\\?', false, 'main'],
    ['[a-z0-9._%+-]{1,64}@[a-z0-9.-]{1,190}\\.[a-z]{2,24}', true, 'main'],
    ['\\b(?:4[0-9]{12}(?:[0-9]{3})?)\\b', false, 'classes'],
    ['\\b[0-9]{3}[- ][0-9]{2}[- ][0-9]{4}\\b', false, 'classes'],
    ['\\b[13][1-9A-HJ-NP-Za-km-z]{25,34}\\b', false, 'main'],
    ['\\b[0-9]{15,16}(?:\\||%7[Cc])[A-Za-z0-9_-]{27,40}\\b', false, 'main'],
    ['(?:sk|pk)_live_[0-9a-zA-Z]{24}', false, 'main'],
    ['(?:a|b)[0-9]{10}', false, 'classes'],
    ['[0-9a-f]{1,4}(?::[0-9a-f]{1,4}){7}', false, 'classes'],
    ['\\b[0-9]{4}\\.[0-9]{2}\\.[0-9]{3}\\b', false, 'classes'],
  ];
  for (const [source, caseless, group] of cases) t.equal(patternGroup(source, caseless), group, source);
  t.equal(patternGroup('[A-Z]{20}', false), 'classes', 'uppercase runs are rare in text');
  t.equal(patternGroup('[A-Z]{20}', true), 'main', '...unless the pattern is caseless');
  t.equal(patternSyntax('ab(?:cd|efg)h').anchorWeight, 2, 'an alternation weighs its lightest branch, and breaks the run around it');
  t.equal(patternSyntax('x?abc').anchorWeight, 3, 'an optional character is not part of the run');
  t.equal(patternSyntax('\\x41\\x42').anchorWeight, 2, 'hex escapes are literals');
});

t.test('every library pattern lands in exactly one group, index kept', async (t) => {
  const patterns = compilePatterns(DEFAULT_DETECTORS);
  const parts = partitionPatterns(patterns);
  t.ok(parts.length >= 2, `the library splits (${parts.map((p) => p.length).join(' + ')} patterns)`);
  const seen = parts.flat().map((p) => p.index).sort((a, b) => a - b);
  t.same(seen, patterns.map((p) => p.index).sort((a, b) => a - b));
  const byId = new Map(parts.flat().map((p) => [p.index, p]));
  t.ok(
    patterns.every((p) => byId.get(p.index) === p),
    'the same pattern objects, so ids mean the same in every database',
  );
  t.same(partitionPatterns([]), [], 'no patterns, no groups');
});

const native = loadNativeBinding();
if (!native.ok) {
  t.fail(`Vectorscan addon not loaded: ${native.reason}`);
} else {
  const everything = { enable: DEFAULT_DETECTORS.map((d) => d.id) };
  const split = createScanner({ ...everything, engine: 'vectorscan' });
  const whole = createScanner({ ...everything, engine: 'vectorscan', partition: false });
  const key = findingKey;
  const streamed = (s: Scanner, data: Buffer, cuts: number[]): string[] => streamedKeys(s, data, cuts).keys;

  t.test('split and one-database scanners report their databases', async (t) => {
    t.ok((split.engineInfo().databases ?? 0) > 1);
    t.equal(whole.engineInfo().databases, 1);
    t.equal(split.engineInfo().patterns, whole.engineInfo().patterns);
  });

  t.test('a split scanner finds exactly what one database finds, block and stream, any chunking', async (t) => {
    const { data } = generateCorpus(64 * 1024, split.detectors);
    const expected = whole.scan(data).map(key).sort();
    t.ok(expected.length > 5, `the corpus holds findings (${expected.length})`);
    t.same(split.scan(data).map(key).sort(), expected, 'block scan');
    fc.assert(
      fc.property(fc.array(fc.integer({ min: 0, max: data.length }), { maxLength: 30 }), (raw) => {
        const cuts = [...new Set(raw)].sort((a, b) => a - b);
        const a = streamed(split, data, cuts);
        const b = streamed(whole, data, cuts);
        if (a.join('\n') !== b.join('\n')) throw new Error(`split and whole disagree at cuts ${cuts.join(',')}`);
      }),
      { seed: 2207, numRuns: 40 },
    );
  });

  t.test('a database set: matches of every part, overflow from any, only its own scratch', async (t) => {
    const a = compileDatabase([{ expression: 'foo[0-9]{3}', flags: 0, id: 4 }], 'block');
    const b = compileDatabase([{ expression: 'bar[0-9]{3}', flags: 0, id: 9 }], 'block');
    const set = DatabaseSet.of([a, b]);
    t.equal(DatabaseSet.of([a]), a, 'a set of one is the database itself');
    const scratch = set.allocScratch();
    const matches = [...set.scanBlock(Buffer.from('foo123 bar456 foo789'), scratch)];
    const triplets = [];
    for (let i = 0; i < matches.length; i += 3) triplets.push(matches.slice(i, i + 3));
    t.same(triplets.sort((x, y) => x[2] - y[2]), [[4, 0, 6], [9, 0, 13], [4, 0, 20]]);
    t.ok(set.scanBlock(Buffer.from('foo111 foo222 bar333'), scratch, 1).overflow, 'a capped part marks the whole scan');
    t.throws(() => set.scanBlock(Buffer.from('x'), a.allocScratch()), TypeError, 'a part scratch cannot scan the set');
    t.equal(set.size(), a.size() + b.size());
    t.ok(scratch.clone().size() === scratch.size());
    t.throws(() => DatabaseSet.of([]), RangeError);
  });

  t.test('a database set streams: each part keeps its own state across writes', async (t) => {
    const a = compileDatabase([{ expression: 'foo[0-9]{3}', flags: 0, id: 4 }], 'stream');
    const b = compileDatabase([{ expression: 'bar[0-9]{3}\\b', flags: 0, id: 9 }], 'stream');
    const set = DatabaseSet.of([a, b]);
    const scratch = set.allocScratch();
    const stream = set.openStream();
    t.same([...stream.scan(Buffer.from('xxfo'), scratch)], []);
    t.same([...stream.scan(Buffer.from('o12'), scratch)], []);
    t.same([...stream.scan(Buffer.from('3 ba'), scratch)], [4, 0, 8]);
    t.same([...stream.scan(Buffer.from('r456'), scratch)], [], 'the \\b after bar456 is decided at the end');
    t.same([...stream.close(scratch)], [9, 0, 15]);
    t.ok(stream.closed);
    t.equal(set.streamSize(), a.streamSize() + b.streamSize());
  });
}
