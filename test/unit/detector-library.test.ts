// The detector library is data; this proves the data sound without either
// real engine: every pattern is in the Hyperscan/RE2 common subset with a
// bounded width, compiles with RE2, and a reference matcher built from RE2
// alone finds every positive example and none of the negative ones, both
// the way the RE2 engine scans (leftmost matches) and the way the Vectorscan
// engine does (every offset where a match can end, start recovered after).
import t from 'tap';
import RE2 from 're2';
import { DEFAULT_DETECTORS, DETECTOR_FAMILIES, VENDOR_TOKEN_DETECTORS, findDetector } from '../../proxy/scan/detectors';
import { VALIDATORS, shannonEntropy } from '../../proxy/scan/validators';
import { CATEGORIES, SEVERITIES, type DetectorSpec } from '../../proxy/scan/types';
import { ISSUER_RANGES } from '../../proxy/scan/validators/luhn-card';
import { analysePattern as analyse, MAX_PATTERN_WIDTH as MAX_WIDTH } from '../../proxy/scan/pattern-width';
import { lintPattern } from '../../proxy/scan/pattern-lint';
import { compilePatterns } from '../../proxy/scan/detector-set';

const ID_SHAPE = /^(pci|pii|secret)\.[a-z0-9]+(?:-[a-z0-9]+)*$/;
/** Vectorscan re-validates every reported end: a positive example should cost only a few. */
const MAX_ENDS_PER_EXAMPLE = 8;

t.test('the reader itself catches what it must', async (t) => {
  t.same(analyse(String.raw`\bab[0-9]{2,4}(?:x|yz)?\b`).width, { min: 4, max: 8 });
  t.match(analyse('a+').problems, [/unbounded/]);
  t.match(analyse('a{2,}').problems, [/unbounded/]);
  t.match(analyse('(?=a)b').problems, [/group syntax/]);
  t.match(analyse('(?<n>a)').problems, [/group syntax/]);
  t.match(analyse('(?i)a').problems, [/group syntax/]);
  t.match(analyse(String.raw`(a)\1`).problems, [/backreference/]);
  t.match(analyse('a{1,3}?').problems, [/lazy/]);
  t.match(analyse(String.raw`a\Z`).problems, [/common subset/]);
  t.match(analyse('a{1,1001}').problems, [/RE2 limit/]);
  t.same(analyse('[+*]{1,2}').problems, []);
});

// ---------------------------------------------------------------------------
// Structure of the library.

t.test('ids are unique, well-formed and match the category', async (t) => {
  const seen = new Set<string>();
  for (const d of DEFAULT_DETECTORS) {
    t.match(d.id, ID_SHAPE, `${d.id} shape`);
    t.equal(d.id.split('.')[0], d.category, `${d.id} id prefix is its category`);
    t.notOk(seen.has(d.id), `${d.id} unique`);
    seen.add(d.id);
    t.equal(findDetector(d.id), d, `findDetector(${d.id})`);
  }
  t.equal(findDetector('secret.no-such-detector'), undefined);
  t.equal(DEFAULT_DETECTORS.length, Object.values(DETECTOR_FAMILIES).reduce((n, f) => n + f.length, 0));
});

t.test('every detector is complete data', async (t) => {
  for (const d of DEFAULT_DETECTORS) {
    t.ok(d.name.length > 0 && (d.description ?? '').length > 0, `${d.id} has name and description`);
    t.ok(CATEGORIES.includes(d.category) && d.category !== 'custom', `${d.id} library category`);
    t.ok(SEVERITIES.includes(d.severity), `${d.id} severity`);
    t.ok(['monitor', 'block', 'redact'].includes(d.action), `${d.id} action`);
    t.ok(d.patterns.length > 0, `${d.id} has patterns`);
    t.ok(d.validator === undefined || d.validator in VALIDATORS, `${d.id} validator "${d.validator}" exists`);
    t.ok(d.examples.positive.length >= 2, `${d.id} has >= 2 positive examples`);
    t.ok(d.examples.negative.length >= 2, `${d.id} has >= 2 negative examples`);
    t.ok((d.contextWords ?? []).length > 0, `${d.id} has context words`);
    for (const w of d.contextWords ?? []) {
      // Context is searched in raw bytes: a non-ASCII word could never match.
      t.match(w, /^[\x20-\x7e]+$/, `${d.id} context word "${w}" is ASCII`);
    }
    if (d.confidence !== undefined) t.ok(d.confidence > 0 && d.confidence <= 1, `${d.id} confidence in (0,1]`);
    if (d.minEntropy !== undefined) t.ok(d.minEntropy > 0 && d.minEntropy < 8, `${d.id} minEntropy in bits per byte`);
  }
});

t.test('default actions follow the data class', async (t) => {
  for (const d of DEFAULT_DETECTORS) {
    if (d.category === 'pci') t.equal(d.action, 'block', `${d.id}: card data is blocked`);
    if (d.id.startsWith('secret.private-key') || d.id.startsWith('secret.aws-') || d.id.startsWith('secret.azure-') || d.id.startsWith('secret.gcp-')) {
      t.equal(d.action, 'block', `${d.id}: keys and cloud credentials are blocked`);
    }
  }
  t.equal(findDetector('pii.email')?.action, 'monitor');
  t.equal(findDetector('pii.phone-number')?.optIn, true);
});

t.test('the library covers the required families', async (t) => {
  t.ok(VENDOR_TOKEN_DETECTORS.length >= 40, `${VENDOR_TOKEN_DETECTORS.length} vendor token detectors`);
  for (const d of VENDOR_TOKEN_DETECTORS) t.equal(d.category, 'secret', `${d.id} is a secret`);
  const checkDigitIds = ['pii.es-dni', 'pii.nl-bsn', 'pii.de-tax-id', 'pii.fr-nir', 'pii.it-codice-fiscale', 'pii.br-cpf', 'pii.in-aadhaar'];
  t.ok(checkDigitIds.filter((id) => findDetector(id)).length >= 3, 'at least three national ids with check digits');
  for (const id of [
    'pci.card-number', 'pii.iban', 'pii.us-ssn', 'pii.uk-nino', 'pii.email', 'pii.phone-number', 'pii.btc-address',
    'pii.eth-address', 'secret.private-key-rsa', 'secret.private-key-ec', 'secret.private-key-dsa',
    'secret.private-key-openssh', 'secret.private-key-pkcs8', 'secret.private-key-pkcs8-encrypted',
    'secret.private-key-pgp', 'secret.aws-access-key-id', 'secret.aws-secret-access-key', 'secret.gcp-service-account-key',
    'secret.gcp-api-key', 'secret.azure-storage-account-key', 'secret.jwt', 'secret.http-basic-auth',
    'secret.http-bearer-token', 'secret.url-credentials', 'secret.generic-assignment',
  ]) {
    t.ok(findDetector(id), `${id} present`);
  }
});

// ---------------------------------------------------------------------------
// Patterns: portable, bounded, compilable.

interface CompiledDetector {
  spec: DetectorSpec;
  patterns: { src: string; width: number; global: RE2; endsAt: RE2; endsAtEof: RE2 }[];
}

const compiled: CompiledDetector[] = [];

t.test('patterns are portable, bounded and compile with RE2', async (t) => {
  for (const d of DEFAULT_DETECTORS) {
    const flags = d.caseInsensitive ? 'i' : '';
    const entry: CompiledDetector = { spec: d, patterns: [] };
    d.patterns.forEach((src, n) => {
      const where = `${d.id} pattern ${n}`;
      const { width, groups, problems } = analyse(src);
      t.same(problems, [], `${where}: only common-subset syntax`);
      t.ok(width.min > 0, `${where}: cannot match the empty string`);
      t.ok(width.max <= MAX_WIDTH, `${where}: max width ${width.max} <= ${MAX_WIDTH}`);
      if (d.valueGroup !== undefined) t.ok(d.valueGroup <= groups, `${where}: has capture group ${d.valueGroup}`);
      let global: RE2;
      try {
        global = new RE2(src, `g${flags}`);
      } catch (err) {
        t.fail(`${where}: RE2 rejects it: ${(err as Error).message}`);
        return;
      }
      t.pass(`${where}: compiles`);
      entry.patterns.push({
        src,
        width: width.max,
        global,
        // "A match of src ends at e" for e before the end: consume exactly one more
        // char, so \b and $ inside src see the real next byte.
        endsAt: new RE2(`(?:${src})[\\s\\S]$`, flags),
        endsAtEof: new RE2(`(?:${src})$`, flags),
      });
    });
    compiled.push(entry);
  }
});

// ---------------------------------------------------------------------------
// The reference matcher.

/** The engines' evaluation of one candidate value: validator, then entropy floor. */
function accepted(spec: DetectorSpec, value: string | undefined): boolean {
  if (value === undefined || value.length === 0) return false;
  if (spec.validator !== undefined && !VALIDATORS[spec.validator](value, spec)) return false;
  if (spec.minEntropy !== undefined && shannonEntropy(value) < spec.minEntropy) return false;
  return true;
}

function valueOf(spec: DetectorSpec, m: RegExpExecArray): string | undefined {
  return spec.valueGroup === undefined ? m[0] : m[spec.valueGroup];
}

/** Validated values found the RE2 engine's way: leftmost, non-overlapping matches. */
function leftmostFindings(entry: CompiledDetector, text: string): string[] {
  const out: string[] = [];
  for (const p of entry.patterns) {
    p.global.lastIndex = 0;
    for (let m = p.global.exec(text); m !== null; m = p.global.exec(text)) {
      const value = valueOf(entry.spec, m);
      if (accepted(entry.spec, value)) out.push(value!);
    }
  }
  return out;
}

/**
 * The Vectorscan engine's way: every offset where some match ends is a
 * candidate; its start is the leftmost one within the pattern's width.
 * Returns the number of end offsets and the validated values.
 */
function endOffsetFindings(entry: CompiledDetector, text: string): { ends: number; values: string[] } {
  let ends = 0;
  const values: string[] = [];
  for (const p of entry.patterns) {
    for (let e = 1; e <= text.length; e++) {
      const lo = Math.max(0, e - p.width - 1);
      const m = e < text.length ? p.endsAt.exec(text.slice(lo, e + 1)) : p.endsAtEof.exec(text.slice(lo, e));
      if (m === null) continue;
      ends++;
      if (e < text.length) m[0] = m[0].slice(0, -1);
      const value = valueOf(entry.spec, m);
      if (accepted(entry.spec, value)) values.push(value!);
    }
  }
  return { ends, values };
}

t.test('reference matcher: positives found, negatives not, by both scanning strategies', async (t) => {
  for (const entry of compiled) {
    const d = entry.spec;
    if (entry.patterns.length !== d.patterns.length) continue; // compile failure already reported
    d.examples.positive.forEach((example, n) => {
      const where = `${d.id} positive #${n}`;
      t.ok(leftmostFindings(entry, example).length >= 1, `${where}: found by leftmost scan`);
      const { ends, values } = endOffsetFindings(entry, example);
      t.ok(values.length >= 1, `${where}: found by end-offset scan`);
      t.ok(ends <= MAX_ENDS_PER_EXAMPLE, `${where}: ${ends} end offsets (<= ${MAX_ENDS_PER_EXAMPLE})`);
    });
    d.examples.negative.forEach((example, n) => {
      const where = `${d.id} negative #${n}`;
      t.same(leftmostFindings(entry, example).length, 0, `${where}: nothing by leftmost scan`);
      t.same(endOffsetFindings(entry, example).values.length, 0, `${where}: nothing by end-offset scan`);
    });
  }
});

t.test('checksum detectors do not fire on each other\'s examples', async (t) => {
  // A card example must not also be a valid IBAN and so on: cross-check the
  // checksum families against each other's positives.
  const strict = ['pci.card-number', 'pii.iban', 'pii.us-ssn', 'pii.es-dni', 'pii.it-codice-fiscale', 'pii.br-cpf'];
  for (const a of strict) {
    for (const b of strict) {
      if (a === b) continue;
      const ea = compiled.find((c) => c.spec.id === a)!;
      const sb = findDetector(b)!;
      for (const example of sb.examples.positive) {
        t.same(leftmostFindings(ea, example), [], `${a} finds nothing in ${b}'s example`);
      }
    }
  }
});

/** `prefix` padded with zeros to `length` digits, the last one a Luhn check digit. */
function cardNumber(prefix: string, length: number): string {
  const body = prefix.padEnd(length - 1, '0');
  for (let check = 0; check < 10; check++) {
    const n = body + check;
    let sum = 0;
    for (let i = 0; i < n.length; i++) {
      let v = Number(n[n.length - 1 - i]);
      if (i % 2 === 1) v = v * 2 > 9 ? v * 2 - 9 : v * 2;
      sum += v;
    }
    if (sum % 10 === 0) return n;
  }
  throw new Error('unreachable');
}

t.test('every issuer range of the card validator is reachable through the card patterns', async (t) => {
  // The patterns pre-filter on the first digit; a brand added to the table
  // with a new first digit must widen the patterns too. UATP, the brand
  // starting with 1, has its own (opt-in) detector.
  const cards = compiled.find((c) => c.spec.id === 'pci.card-number')!;
  const uatp = compiled.find((c) => c.spec.id === 'pci.uatp-card-number')!;
  for (const r of ISSUER_RANGES) {
    const entry = r.brand === 'uatp' ? uatp : cards;
    for (const length of r.lengths.filter((n) => n >= 13)) {
      for (const prefix of [r.from, r.to]) {
        const pan = cardNumber(String(prefix), length);
        t.same(leftmostFindings(entry, `pan=${pan};`), [pan], `${r.brand} ${prefix}... length ${length} (${entry.spec.id})`);
        if (entry === uatp) t.same(leftmostFindings(cards, `pan=${pan};`), [], 'not a candidate of the default card detector');
      }
    }
  }
});

// Start-up trusts this and skips the lint and the eager RE2 compiles for
// library patterns (proxy/scan/detector-set.ts): it must hold for every
// pattern, in every form the scanners compile it.
t.test('every library pattern lints clean and compiles in all three RE2 forms', async (t) => {
  let checked = 0;
  for (const d of DEFAULT_DETECTORS) {
    const ci = d.caseInsensitive ? 'i' : '';
    d.patterns.forEach((source, i) => {
      t.same(lintPattern(source), [], `${d.id} pattern ${i} lints clean`);
      for (const [pattern, flags] of [[source, `g${ci}`], [`(?:${source})$`, ci], [source, `d${ci}`]] as const) {
        t.doesNotThrow(() => new RE2(pattern, flags), `${d.id} pattern ${i} compiles with flags "${flags}"`);
      }
      checked++;
    });
  }
  t.ok(checked > 100, `${checked} patterns`);
});

t.test('a custom pattern is still linted and compiled at load, naming its detector', async (t) => {
  const custom = (pattern: string): DetectorSpec => ({ ...DEFAULT_DETECTORS[0]!, id: 'custom.test', patterns: [pattern] });
  t.throws(() => compilePatterns([custom('(?=x)abc')]), { detectorId: 'custom.test', message: /lookahead/ });
  t.throws(() => compilePatterns([custom('a[b{1,2}')]), { detectorId: 'custom.test', message: /custom.test/ });
  const library = compilePatterns(DEFAULT_DETECTORS.slice(0, 3));
  t.ok(library.every((p) => p.endAnchored instanceof RE2), 'library patterns compile on first use');
});
