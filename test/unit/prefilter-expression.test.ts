// libhs may be given less than a pattern (prefilter-expression.ts): the
// pattern without a long leading class run, when a rare literal follows
// it. That is sound only if the shorter expression matches at every end
// where the whole pattern does; the engine then reads each candidate back
// with the whole pattern and drops the rest. Checked here on the rule's
// own cases, on every library pattern it shortens (property-based, with
// random text made of the patterns' own pieces), and end to end: the
// Vectorscan engine fed the shorter expressions finds exactly what it finds
// fed the patterns as written, in block scans and in streams.
import t from 'tap';
import fc from 'fast-check';
import RE2 from 're2';
import { createScanner } from '../../proxy/scan';
import { DEFAULT_DETECTORS } from '../../proxy/scan/detectors';
import { loadNativeBinding } from '../../proxy/native';
import { MIN_LEADING_RUN, libhsExpression, prefilterExpression } from '../../proxy/scan/engines/prefilter-expression';
import { findingKey, streamedKeys } from './stream-cuts';

t.test('a long leading run before a rare literal is left out; anything else is kept whole', async (t) => {
  const cases: Array<[string, string, string]> = [
    ['\\b[0-9]{15,16}(?:\\||%7[Cc])[A-Za-z0-9_-]{27,40}\\b', '(?:\\||%7[Cc])[A-Za-z0-9_-]{27,40}\\b', 'digit run before `|`'],
    ['\\b[0-9a-f]{32}-us[0-9]{1,2}\\b', '-us[0-9]{1,2}\\b', 'hex run before `-us`'],
    ['[0-9]{8,10}:AA[A-Za-z0-9_-]{33}', ':AA[A-Za-z0-9_-]{33}', 'no \\b before the run'],
    ['\\d{12}@x', '@x', '\\d counts as a class'],
    ['\\b[0-9]{7}@x', '\\b[0-9]{7}@x', `a run shorter than ${MIN_LEADING_RUN} is left to libhs`],
    ['\\b[0-9]{12}[0-9]{3}', '\\b[0-9]{12}[0-9]{3}', 'the rest has no literal to look for'],
    ['\\b[0-9]{12} [0-9]{3}', '\\b[0-9]{12} [0-9]{3}', 'a space is too common to look for'],
    ['[0-9]{12}?@x', '[0-9]{12}?@x', 'a lazy run is another quantifier'],
    ['[0-9]{12}+@x', '[0-9]{12}+@x', 'and so is a possessive one'],
    ['[0-9]{12}', '[0-9]{12}', 'nothing after the run'],
    ['[0-9]{12}|@@', '[0-9]{12}|@@', 'the run is a whole branch'],
    ['(?:[0-9]{12})@@', '(?:[0-9]{12})@@', 'a run inside a group is not read'],
    ['AKIA[0-9A-Z]{16}', 'AKIA[0-9A-Z]{16}', 'no leading run'],
    ['[\\]x]{10}@@', '@@', 'an escaped bracket inside the class'],
  ];
  for (const [source, expected, why] of cases) t.equal(prefilterExpression(source), expected, `${why}: ${source}`);
});

/** Every library pattern the rule shortens, with what libhs gets for it. */
const shortened = DEFAULT_DETECTORS.flatMap((d) =>
  d.patterns
    .map((source) => ({ detector: d, source, expression: libhsExpression({ source, detector: d }) }))
    .filter((p) => p.expression !== p.source),
);

t.test('the library patterns it shortens', async (t) => {
  // A new detector of this shape lands here: look at what it is shortened to.
  t.same(
    shortened.map((p) => `${p.detector.id}: ${p.expression}`).sort(),
    [
      'secret.facebook-access-token: (?:\\||%7[Cc])[A-Za-z0-9_-]{27,40}\\b',
      'secret.mailchimp-api-key: -us[0-9]{1,2}\\b',
      'secret.newrelic-license-key: NRAL\\b',
      'secret.telegram-bot-token: :AA[A-Za-z0-9_-]{33}',
    ],
  );
});

/** Random text built from the pieces the shortened patterns are made of, and their examples. */
function textOf(pieces: string[]): fc.Arbitrary<string> {
  return fc.array(fc.oneof(fc.constantFrom(...pieces), fc.stringMatching(/^[0-9a-fA-Z_ -]{1,20}$/)), { maxLength: 12 }).map((parts) => parts.join(''));
}

/** Ends (exclusive offsets) at which `re` (anchored with `$`) matches some substring. */
function endsOf(anchoredAtEnd: RE2, text: string): number[] {
  const ends: number[] = [];
  for (let end = 1; end <= text.length; end++) if (anchoredAtEnd.test(text.slice(0, end))) ends.push(end);
  return ends;
}

t.test('wherever a library pattern matches, what libhs is given matches too, ending at the same byte', async (t) => {
  for (const p of shortened) {
    const flags = p.detector.caseInsensitive ? 'i' : '';
    const whole = new RE2(`(?:${p.source})$`, flags);
    const part = new RE2(`(?:${p.expression})$`, flags);
    const pieces = [...p.detector.examples.positive, ...p.detector.examples.negative, '|', '%7C', '-us21', 'NRAL', ':AA', '0123456789', 'deadbeef'];
    let matched = 0;
    fc.assert(
      fc.property(textOf(pieces), (text) => {
        const ends = endsOf(whole, text);
        matched += ends.length;
        const partEnds = new Set(endsOf(part, text));
        const missing = ends.filter((e) => !partEnds.has(e));
        if (missing.length > 0) throw new Error(`${p.detector.id}: the shortened expression misses ends ${missing.join(',')} in ${JSON.stringify(text)}`);
      }),
      { numRuns: 150 },
    );
    t.ok(matched > 0, `${p.detector.id}: the random texts hold matches of the whole pattern (${matched})`);
  }
});

const native = loadNativeBinding();
if (!native.ok) {
  t.fail(`Vectorscan addon not loaded: ${native.reason}`);
} else {
  t.test('the Vectorscan engine finds the same with the shortened expressions as with the patterns as written', async (t) => {
    const selection = { enable: [...new Set(shortened.map((p) => p.detector.id))], engine: 'vectorscan' as const };
    const shorter = createScanner(selection);
    const asWritten = createScanner({ ...selection, prefilter: false });
    const pieces = shortened.flatMap((p) => [...p.detector.examples.positive, ...p.detector.examples.negative]);
    let found = 0;
    fc.assert(
      fc.property(textOf([...pieces, '|', '%7C', '-us21', 'NRAL', ':AA']), fc.array(fc.nat(), { maxLength: 6 }), (text, rawCuts) => {
        const data = Buffer.from(text, 'latin1');
        const expected = asWritten.scan(data).map(findingKey).sort();
        found += expected.length;
        const block = shorter.scan(data).map(findingKey).sort();
        if (block.join('\n') !== expected.join('\n')) throw new Error(`block scans differ on ${JSON.stringify(text)}: ${block.join(' ')} vs ${expected.join(' ')}`);
        const cuts = [...new Set(rawCuts.map((c) => c % (data.length + 1)))].sort((a, b) => a - b);
        const a = streamedKeys(shorter, data, cuts).keys.join('\n');
        const b = streamedKeys(asWritten, data, cuts).keys.join('\n');
        if (a !== b) throw new Error(`streams cut at ${cuts.join(',')} differ on ${JSON.stringify(text)}`);
      }),
      { numRuns: 300 },
    );
    t.ok(found > 0, `the random texts hold findings (${found})`);
  });
}
