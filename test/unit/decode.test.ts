// Decoded views and their maps back to raw offsets.
import t, { type Test } from 'tap';
import * as zlib from 'node:zlib';
import { decodeViews, type DecodedView, type DecodeViewsResult } from '../../proxy/scan/decode';
import { OffsetMapBuilder } from '../../proxy/scan/decode/offset-map';
import { DEFAULT_MIN_BASE64_CHARS, findBase64Runs, type Base64Run } from '../../proxy/scan/decode/base64';
import fc from 'fast-check';
import { countBytes } from '../../proxy/scan/decode/text-heuristics';

const CARD = '4111111111111111';
// Contains `?>` runs so standard base64 has `/` and `+` and base64url has `_` and `-`.
const TEXT = `The card number is ${CARD}, keep it secret??? >>> ok~~~ done.`;

function names(result: DecodeViewsResult): string[] {
  return result.views.map((v) => v.view);
}

function only(t: Test, result: DecodeViewsResult, name: string): DecodedView {
  const found = result.views.filter((v) => v.view === name);
  t.equal(found.length, 1, `exactly one ${name} view (have: ${names(result).join(', ')})`);
  return found[0];
}

/** Raw span of the base64 groups that hold decoded bytes [m, m+len) of a run starting at runStart. */
function groupSpan(runStart: number, m: number, len: number): [number, number] {
  return [runStart + 4 * Math.floor(m / 3), runStart + 4 * (Math.floor((m + len - 1) / 3) + 1)];
}

function markerSpan(view: DecodedView, marker = CARD): [number, number] {
  const at = view.data.indexOf(marker);
  if (at < 0) throw new Error(`marker not in ${view.view}`);
  return view.toRaw(at, at + Buffer.byteLength(marker));
}

t.test('input without encodings has no views', async (t) => {
  for (const text of ['plain text, nothing to see', `card ${CARD} in the clear`, '{"a": "no escapes", "b": [1, 2]}', '']) {
    const result = decodeViews(Buffer.from(text));
    t.same(result, { views: [], truncated: false, depthLimited: false }, JSON.stringify(text));
  }
});

t.test('percent: round trip and exact / covering offsets', async (t) => {
  const value = `card ${CARD} é`;
  const raw = Buffer.from(`q=${encodeURIComponent(value)}&x=1`);
  const result = decodeViews(raw);
  const view = only(t, result, 'percent');
  t.equal(view.data.toString(), `q=${value}&x=1`);
  t.same(markerSpan(view), [raw.indexOf(CARD), raw.indexOf(CARD) + 16], 'copied bytes map exactly');
  t.same(view.toRaw(6, 7), [6, 9], 'a decoded space maps to its %20');
  const e = view.data.indexOf('é');
  t.same(view.toRaw(e, e + 2), [raw.indexOf('%C3'), raw.indexOf('%C3') + 6], 'both bytes of é map to %C3%A9');
  t.same(view.toRaw(e + 1, e + 2), [raw.indexOf('%A9'), raw.indexOf('%A9') + 3], 'second byte maps to its own escape');
  t.same(view.toRaw(0, view.data.length), [0, raw.length], 'whole view covers whole input');
  t.same(view.toRaw(view.data.length, view.data.length), [raw.length, raw.length], 'empty span at the end');
  t.same(decodeViews(Buffer.from('100%zz sure %4')).views, [], 'malformed escapes are not decodings');
});

t.test('form and URL rules for +', async (t) => {
  const raw = Buffer.from(new URLSearchParams({ q: `a b+c ${CARD}` }).toString());
  t.equal(raw.toString(), `q=a+b%2Bc+${CARD}`, 'precondition: URLSearchParams encoding');

  const form = only(t, decodeViews(raw, { contentType: 'application/x-www-form-urlencoded; charset=utf-8' }), 'form');
  t.equal(form.data.toString(), `q=a b+c ${CARD}`);
  t.same(markerSpan(form), [raw.indexOf(CARD), raw.indexOf(CARD) + 16]);

  const plain = only(t, decodeViews(raw), 'percent');
  t.equal(plain.data.toString(), `q=a+b+c+${CARD}`, 'outside forms + stays +');

  t.same(decodeViews(Buffer.from('a+b+c')).views, [], 'a lone + is nothing to decode in a body');
  t.equal(decodeViews(Buffer.from('a+b'), { contentType: 'application/x-www-form-urlencoded' }).views[0]?.data.toString(), 'a b');

  const url = Buffer.from('/search+path?q=a+b%21#frag+x');
  const urlView = only(t, decodeViews(url, { source: 'url' }), 'percent');
  t.equal(urlView.data.toString(), '/search+path?q=a b!#frag+x', '+ is a space only in the query');
  t.equal(decodeViews(Buffer.from('/p?q=a+b'), { source: 'url' }).views[0]?.data.toString(), '/p?q=a b');
});

t.test('JSON string escapes', async (t) => {
  const raw = Buffer.from('{"k\\u0041":"\\u0034111111111111111 caf\\u00e9 \\ud83d\\ude00 \\/ \\n \\q","n":1}');
  const view = only(t, decodeViews(raw), 'json');
  t.equal(view.data.toString(), `{"kA":"${CARD} café 😀 / \n \\q","n":1}`, 'escapes decoded, invalid \\q kept');
  const rawMarker = raw.indexOf('\\u0034');
  t.same(markerSpan(view), [rawMarker, rawMarker + 6 + 15], 'the marker maps to its escaped form');
  const emoji = view.data.indexOf('😀');
  t.same(view.toRaw(emoji + 2, emoji + 3), [raw.indexOf('\\ud83d'), raw.indexOf('\\ud83d') + 12], 'a surrogate pair is one unit');
  t.same(view.toRaw(1, 2), [1, 2], 'copied bytes map exactly');

  const outside = only(t, decodeViews(Buffer.from('[1, 2] \\u0041 "\\u0041"')), 'json');
  // A string's content cut out of its document (and nested in another
  // encoding) has no quotes left, so \\u escapes are decoded anywhere; the
  // short escapes (\\n, \\/) only inside strings.
  t.equal(outside.data.toString(), '[1, 2] A "A"', '\\u escapes are decoded inside and outside strings');
  t.equal(only(t, decodeViews(Buffer.from('hello \\u0041 world \\n')), 'json').data.toString(), 'hello A world \\n', 'not JSON: \\u decoded, \\n kept');
  const byType = decodeViews(Buffer.from('"\\u0041"'), { contentType: 'application/vnd.api+json' });
  t.equal(only(t, byType, 'json').data.toString(), '"A"', 'a JSON content type is enough');
  const lone = only(t, decodeViews(Buffer.from('["\\ud800x"]')), 'json');
  t.equal(lone.data.toString(), '["\ufffdx"]', 'a lone surrogate becomes U+FFFD');
});

t.test('base64 and base64url, with and without padding', async (t) => {
  const std = Buffer.from(TEXT).toString('base64');
  const url = Buffer.from(TEXT).toString('base64url');
  t.match(std, /[+/]/, 'precondition: standard alphabet in use');
  t.match(url, /[-_]/, 'precondition: url-safe alphabet in use');
  t.match(std, /=$/, 'precondition: padded');
  const encodings = { padded: std, unpadded: std.replace(/=+$/, ''), url };
  for (const [name, encoded] of Object.entries(encodings)) {
    const raw = Buffer.from(`token=${encoded}&next=1`);
    const view = only(t, decodeViews(raw), 'base64');
    t.equal(view.data.toString(), TEXT, `${name}: round trip`);
    const runStart = raw.indexOf(encoded);
    t.same(markerSpan(view), groupSpan(runStart, TEXT.indexOf(CARD), 16), `${name}: marker maps to its groups`);
    const [s, e] = markerSpan(view);
    t.ok(Buffer.from(raw.toString('latin1', s, e), 'base64').toString().includes(CARD), `${name}: the raw span decodes to the marker`);
    t.same(view.toRaw(0, view.data.length), [runStart, runStart + encoded.length], `${name}: whole view = whole run, padding included`);
  }
});

t.test('base64 that decodes to binary is not a view', async (t) => {
  const raw = Buffer.from(
    'id=abcdefghijklmnopqrstuvwxyz0123456789ABCDEF sha=9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08',
  );
  t.same(decodeViews(raw).views, []);
});

/** Deterministic noise (xorshift32), so these tests are reproducible. */
function noise(length: number, seed: number): Buffer {
  const out = Buffer.alloc(length);
  let x = seed >>> 0 || 1;
  for (let i = 0; i < length; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    x >>>= 0;
    out[i] = x & 0xff;
  }
  return out;
}

t.test('noise is not decoded: base64 of binary, binary bodies, fake zlib headers', async (t) => {
  const upload = Buffer.from(JSON.stringify({ image: noise(3 * 1024 * 1024, 7).toString('base64') }));
  t.same(decodeViews(upload), { views: [], truncated: false, depthLimited: false }, 'a base64 image upload');
  const binary = Buffer.concat([noise(1024 * 1024, 11), Buffer.from('%41 \\n [{"a":"\\u0041"}]'), noise(1024, 13)]);
  t.same(decodeViews(binary).views, [], 'percent and JSON escapes in binary are coincidences');
  const fakeZlib = Buffer.concat([Buffer.from([0x78, 0x9c]), noise(120, 17)]).toString('base64');
  t.same(decodeViews(Buffer.from(`x=${fakeZlib}`)).views, [], 'a zlib header followed by noise is not compressed data');
  t.equal(only(t, decodeViews(Buffer.from(`auth ${Buffer.from('alice:s3cr3t-passw0rd').toString('base64')}`)), 'base64').data.toString(), 'alice:s3cr3t-passw0rd', 'a short credential still is');
});

t.test('a base64url token glued to a URL path is still found', async (t) => {
  const token = Buffer.from(TEXT).toString('base64url');
  const raw = Buffer.from(`/v1/tokens/${token}?x=1`);
  const view = only(t, decodeViews(raw, { source: 'url' }), 'base64');
  t.equal(view.data.toString(), TEXT);
  t.same(markerSpan(view), groupSpan(raw.indexOf(token), TEXT.indexOf(CARD), 16));
});

t.test('nested: base64 in base64, percent in base64', async (t) => {
  const inner = Buffer.from(TEXT).toString('base64');
  const outer = Buffer.from(inner).toString('base64');
  const raw = Buffer.from(`data: ${outer}\n`);
  const result = decodeViews(raw);
  t.same(names(result), ['base64', 'base64>base64']);
  t.equal(only(t, result, 'base64').data.toString(), inner);
  const deep = only(t, result, 'base64>base64');
  t.equal(deep.data.toString(), TEXT);
  const [gs, ge] = groupSpan(0, TEXT.indexOf(CARD), 16); // marker's chars in `inner`
  t.same(markerSpan(deep), groupSpan(raw.indexOf(outer), gs, ge - gs), 'composed covering span');

  const percentInside = Buffer.from(`q=${encodeURIComponent(`card ${CARD} & more text here`)}`).toString('base64');
  const result2 = decodeViews(Buffer.from(`x ${percentInside} y`));
  t.same(names(result2), ['base64', 'base64>percent']);
  t.equal(only(t, result2, 'base64>percent').data.toString(), `q=card ${CARD} & more text here`);
});

t.test('marker inside base64 inside JSON maps to the covering groups of the run', async (t) => {
  const encoded = Buffer.from(TEXT).toString('base64');
  // Without escapes the run is found in the raw bytes directly, once.
  const raw = Buffer.from(JSON.stringify({ user: 'bob', blob: encoded, note: 'caf\u00e9' }).replace('é', '\\u00e9'));
  const result = decodeViews(raw);
  t.same(names(result), ['json', 'base64'], 'the run is not decoded a second time inside the json view');
  const view = only(t, result, 'base64');
  const runStart = raw.indexOf(encoded);
  const span = markerSpan(view);
  t.same(span, groupSpan(runStart, TEXT.indexOf(CARD), 16));
  t.ok(span[0] >= runStart && span[1] <= runStart + encoded.length, 'inside the run');

  // JSON may escape `/` as `\/`: then only the JSON view holds the run whole.
  const escaped = encoded.replace(/\//g, '\\/');
  t.not(escaped, encoded, 'precondition: the run contains /');
  const raw2 = Buffer.from(`{"blob":"${escaped}"}`);
  const result2 = decodeViews(raw2);
  const nested = only(t, result2, 'json>base64');
  t.equal(nested.data.toString(), TEXT);
  // Oracle: raw offset of each base64 character of the run.
  const start2 = raw2.indexOf(escaped);
  const rawPos: number[] = [];
  for (let i = start2; i < start2 + escaped.length; i++) if (raw2[i] !== 0x5c) rawPos.push(raw2[i - 1] === 0x5c ? i - 1 : i);
  const [gs, ge] = groupSpan(0, TEXT.indexOf(CARD), 16);
  const lastChar = ge - 1;
  const expectedEnd = rawPos[lastChar] + (raw2[rawPos[lastChar]] === 0x5c ? 2 : 1);
  t.same(markerSpan(nested), [rawPos[gs], expectedEnd], 'covering span through the escapes');
});

t.test('multipart/form-data with a plain part and a base64 part', async (t) => {
  const boundary = '----kdlpBoundaryXyZ123';
  const folded = (Buffer.from(TEXT + ' ' + TEXT).toString('base64').match(/.{1,76}/g) ?? []).join('\r\n');
  const field = `hello ${CARD} world`;
  const raw = Buffer.from(
    `--${boundary}\r\n` +
      'Content-Disposition: form-data; name="note"\r\n\r\n' +
      `${field}\r\n` +
      `--${boundary}\r\n` +
      'Content-Disposition: form-data; name="file"; filename="a.txt"\r\n' +
      'Content-Type: text/plain\r\n' +
      'Content-Transfer-Encoding: base64\r\n\r\n' +
      `${folded}\r\n` +
      `--${boundary}--\r\n`,
  );
  const result = decodeViews(raw, { contentType: `multipart/form-data; boundary=${boundary}` });
  t.same(names(result), ['multipart', 'multipart', 'multipart>base64']);
  const [first, second] = result.views;
  t.equal(first.data.toString(), field, 'part 1 body');
  t.same(first.toRaw(0, first.data.length), [raw.indexOf(field), raw.indexOf(field) + field.length], 'part 1 maps 1:1');
  t.equal(second.data.toString(), folded, 'part 2 body, as sent');

  const decoded = only(t, result, 'multipart>base64');
  t.equal(decoded.data.toString(), TEXT + ' ' + TEXT);
  // Oracle: raw offsets of the base64 characters, skipping the line breaks.
  const bodyStart = raw.indexOf(folded);
  const chars: number[] = [];
  for (let i = bodyStart; i < bodyStart + folded.length; i++) if (raw[i] !== 0x0d && raw[i] !== 0x0a) chars.push(i);
  const secondCard = decoded.data.lastIndexOf(CARD);
  const [gs, ge] = groupSpan(0, secondCard, 16);
  t.same(decoded.toRaw(secondCard, secondCard + 16), [chars[gs], chars[ge - 1] + 1], 'groups across line breaks');
  t.equal(result.truncated, false);
});

t.test('multipart parts are decoded according to their own headers', async (t) => {
  const boundary = 'b0undary';
  const raw = Buffer.from(
    `preamble\r\n--${boundary}\r\nContent-Type: application/json\r\n\r\n{"a":"\\u0034111111111111111"}\r\n` +
      `--${boundary}\r\nContent-Type: application/x-www-form-urlencoded\r\n\r\nq=a+b%21\r\n` +
      `--${boundary}\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\ncaf=C3=A9 soft=\r\nbreak ${CARD}\r\n` +
      `--${boundary}--`,
  );
  const result = decodeViews(raw, { contentType: `multipart/mixed; boundary="${boundary}"` });
  t.same(names(result), ['multipart', 'multipart', 'multipart', 'multipart>json', 'multipart>form', 'multipart>qp']);
  t.equal(only(t, result, 'multipart>json').data.toString(), `{"a":"${CARD}"}`);
  t.equal(only(t, result, 'multipart>form').data.toString(), 'q=a b!');
  const qp = only(t, result, 'multipart>qp');
  t.equal(qp.data.toString(), `café softbreak ${CARD}`);
  t.same(markerSpan(qp), [raw.lastIndexOf(CARD), raw.lastIndexOf(CARD) + 16]);
  const e = qp.data.indexOf('é');
  t.same(qp.toRaw(e, e + 2), [raw.indexOf('=C3'), raw.indexOf('=C3') + 6]);

  const cut = raw.subarray(0, raw.indexOf('q=a+b') + 6);
  const partial = decodeViews(cut, { contentType: `multipart/mixed; boundary=${boundary}` });
  t.equal(partial.views.filter((v) => v.view === 'multipart').length, 2, 'a cut-off body still yields its last part');
  t.same(
    names(decodeViews(raw, { contentType: 'multipart/mixed; boundary=nope' })),
    ['percent', 'json', 'percent>json'],
    'a boundary that never occurs falls back to decoding the body as a whole',
  );
});

t.test('compressed data inside base64 is opened', async (t) => {
  const gz = zlib.gzipSync(Buffer.from(TEXT));
  const encoded = gz.toString('base64');
  const raw = Buffer.from(`{"session":"${encoded}"}`);
  const result = decodeViews(raw);
  t.same(names(result), ['base64', 'base64>gzip']);
  const text = only(t, result, 'base64>gzip');
  t.equal(text.data.toString(), TEXT);
  const runStart = raw.indexOf(encoded);
  t.same(markerSpan(text), [runStart, runStart + encoded.length], 'decompressed bytes map to the whole run');

  const shallow = decodeViews(raw, { maxDepth: 1 });
  t.same(names(shallow), ['base64']);
  t.equal(shallow.depthLimited, true, 'at the depth limit, the unopened stream is reported');

  const z = zlib.deflateSync(Buffer.from(TEXT)).toString('base64');
  t.equal(only(t, decodeViews(Buffer.from(`x=${z}`)), 'base64>deflate').data.toString(), TEXT);

  // Too big for the view budget: not expanded, and said so.
  const bomb = zlib.gzipSync(Buffer.alloc(1024 * 1024)).toString('base64');
  const capped = decodeViews(Buffer.from(`x=${bomb}`));
  t.same(names(capped), ['base64']);
  t.equal(capped.truncated, true);
});

t.test('depth limit', async (t) => {
  let encoded = TEXT;
  for (let i = 0; i < 3; i++) encoded = Buffer.from(encoded).toString('base64');
  const raw = Buffer.from(`v=${encoded}`);

  const two = decodeViews(raw);
  t.same(names(two), ['base64', 'base64>base64'], 'default depth 2');
  t.equal(two.depthLimited, true, 'and it says more was there');
  t.equal(two.truncated, false, 'depth is not truncation');
  t.notOk(two.views.some((v) => v.data.includes(CARD)));

  const three = decodeViews(raw, { maxDepth: 3 });
  t.same(names(three), ['base64', 'base64>base64', 'base64>base64>base64']);
  t.equal(three.depthLimited, false);
  const deepest = only(t, three, 'base64>base64>base64');
  const [s, e] = markerSpan(deepest);
  t.ok(s >= raw.indexOf(encoded) && e <= raw.length && e > s, 'maps inside the run');

  const none = decodeViews(raw, { maxDepth: 0 });
  t.same(none.views, []);
  t.equal(none.depthLimited, true);
});

t.test('caps: maxViews and maxTotalBytes set truncated', async (t) => {
  const runs = ['first', 'second', 'third'].map((w) => Buffer.from(`${w}: ${TEXT}`).toString('base64'));
  const raw = Buffer.from(runs.join(' '));
  const all = decodeViews(raw);
  t.equal(all.views.length, 3);
  t.equal(all.truncated, false);

  const fewer = decodeViews(raw, { maxViews: 2 });
  t.equal(fewer.views.length, 2);
  t.equal(fewer.truncated, true);

  const smaller = decodeViews(raw, { maxTotalBytes: 100 });
  t.equal(smaller.truncated, true);
  t.ok(smaller.views.reduce((n, v) => n + v.data.length, 0) <= 100, 'total stays within the cap');
  t.equal(smaller.views.length, 1, 'what fits is still returned');

  t.equal(decodeViews(raw, { maxTotalBytes: 0 }).views.length, 0);
});

t.test('toRaw rejects spans outside the view', async (t) => {
  const view = decodeViews(Buffer.from('a%20b')).views[0];
  t.throws(() => view.toRaw(0, 4), RangeError);
  t.throws(() => view.toRaw(2, 1), RangeError);
  t.throws(() => view.toRaw(-1, 1), RangeError);
});

t.test('offset maps stay compact', async (t) => {
  const big = Buffer.alloc(1024 * 1024, 'a');
  big.write('%41', 500_000);
  const builder = new OffsetMapBuilder();
  builder.copy(0, 500_000);
  builder.unit(1, 500_000, 3);
  builder.copy(500_003, big.length - 500_003);
  const map = builder.build();
  t.equal(map.segmentCount, 3, 'one segment per stretch, not per byte');
  t.same(map.toSource(499_999, 500_001), [499_999, 500_003], 'a copied byte, then the whole escape');

  const groups = new OffsetMapBuilder();
  for (let i = 0; i < 1000; i++) groups.unit(3, 10 + i * 4, 4);
  t.equal(groups.build().segmentCount, 1, 'a base64 run is one segment');
  t.same(groups.build().toSource(4, 5), [14, 18]);

  // Units added in bulk are the same map as units added one by one, and join the run before them.
  const bulk = new OffsetMapBuilder();
  bulk.unit(3, 10, 4);
  bulk.units(3, 14, 4, 600);
  bulk.units(3, 14 + 600 * 4, 4, 399);
  t.equal(bulk.length, 3000);
  t.equal(bulk.build().segmentCount, 1, 'bulk units continue the segment');
  for (const [a, b] of [[0, 1], [4, 5], [1799, 1801], [2997, 3000]]) t.same(bulk.build().toSource(a, b), groups.build().toSource(a, b), `[${a}, ${b})`);
  const after = new OffsetMapBuilder();
  after.units(3, 10, 4, 5);
  after.copy(30, 2);
  t.same(after.build().toSource(15, 17), [30, 32], 'a copied stretch after bulk units starts where they end');

  const view = decodeViews(big).views[0];
  t.equal(view.data.length, big.length - 2);
  t.same(view.toRaw(500_000, 500_001), [500_000, 500_003]);
  t.same(view.toRaw(500_001, 500_002), [500_003, 500_004], 'exact after the escape');
});

t.test('base64 runs: the look-ahead finder returns the runs a byte-by-byte walk does (property)', async (t) => {
  const alphabet = /[A-Za-z0-9+/_-]/;
  // The walk findBase64Runs used to do: every maximal run of at least 20 characters, then up to two `=`.
  const walk = (s: string): Base64Run[] => {
    const runs: Base64Run[] = [];
    for (let i = 0; i < s.length; ) {
      if (!alphabet.test(s[i])) {
        i++;
        continue;
      }
      const start = i;
      while (i < s.length && alphabet.test(s[i])) i++;
      let end = i;
      while (end < s.length && end - i < 2 && s[end] === '=') end++;
      if (i - start >= DEFAULT_MIN_BASE64_CHARS) runs.push({ start, end });
      i = end;
    }
    return runs;
  };
  fc.assert(
    fc.property(
      fc.array(fc.oneof(fc.constantFrom(' ', '"', '=', '==', '\n', '.'), fc.constantFrom('a', 'Z', '0', '+', '/', '-', '_'), fc.stringMatching(/^[A-Za-z0-9]{12,30}$/)), { maxLength: 60 }),
      (parts) => {
        const text = parts.join('');
        return JSON.stringify(findBase64Runs(Buffer.from(text, 'latin1'))) === JSON.stringify(walk(text));
      },
    ),
    { seed: 1204, numRuns: 2000 },
  );
  t.pass('same runs as the walk on 2000 texts');
});

t.test('text heuristics: counting four bytes at a time gives the byte-by-byte counts (property)', async (t) => {
  const walk = (data: Uint8Array) => {
    let printable = 0;
    let control = 0;
    for (const b of data) {
      if ((b >= 0x20 && b < 0x7f) || b === 0x09 || b === 0x0a || b === 0x0d) printable++;
      else if (b < 0x20 || b === 0x7f) control++;
    }
    return { printable, control };
  };
  // Mostly printable bytes with the edges of every class mixed in, at every alignment.
  const edgy = fc.oneof(fc.integer({ min: 0x20, max: 0x7e }), fc.constantFrom(0, 0x09, 0x0a, 0x0d, 0x1f, 0x20, 0x7e, 0x7f, 0x80, 0xff));
  fc.assert(
    fc.property(fc.uint8Array({ maxLength: 300 }), fc.array(edgy, { maxLength: 300 }), fc.nat(7), (noise, text, offset) => {
      const bytes = Buffer.concat([Buffer.from(text), Buffer.from(noise)]);
      const backing = Buffer.alloc(bytes.length + 8);
      bytes.copy(backing, offset);
      const view = backing.subarray(offset, offset + bytes.length);
      return JSON.stringify(countBytes(view)) === JSON.stringify(walk(view));
    }),
    { seed: 1204, numRuns: 3000 },
  );
  t.pass('same counts on 3000 inputs at all alignments');
});

t.test('offset maps of many segments (past every growth of their storage) map each decoded byte to its unit', async (t) => {
  // A reference model: for each decoded byte, the source span of the unit that made it.
  type Op = { kind: 'copy'; length: number } | { kind: 'unit'; d: number; s: number; count: number } | { kind: 'gap'; length: number };
  const op = fc.oneof(
    fc.record({ kind: fc.constant('copy' as const), length: fc.integer({ min: 1, max: 40 }) }),
    fc.record({ kind: fc.constant('unit' as const), d: fc.integer({ min: 1, max: 4 }), s: fc.integer({ min: 1, max: 6 }), count: fc.integer({ min: 1, max: 5 }) }),
    fc.record({ kind: fc.constant('gap' as const), length: fc.integer({ min: 1, max: 3 }) }),
  );
  fc.assert(
    fc.property(fc.array(op, { minLength: 1, maxLength: 300 }), fc.integer({ min: 0, max: 2 ** 40 }), (ops, origin) => {
      const builder = new OffsetMapBuilder();
      const expected: [number, number][] = [];
      let source = origin;
      const snapshots: { length: number; map: ReturnType<OffsetMapBuilder['build']> }[] = [];
      ops.forEach((o, index) => {
        if (o.kind === 'gap') {
          source += o.length; // source bytes that made nothing (a dropped line break)
        } else if (o.kind === 'copy') {
          builder.copy(source, o.length);
          for (let i = 0; i < o.length; i++) expected.push([source + i, source + i + 1]);
          source += o.length;
        } else {
          builder.units(o.d, source, o.s, o.count);
          for (let u = 0; u < o.count; u++) {
            for (let i = 0; i < o.d; i++) expected.push([source, source + o.s]);
            source += o.s;
          }
        }
        if (index === 5 || index === 40 || index === 150) snapshots.push({ length: builder.length, map: builder.build() });
      });
      const map = builder.build();
      if (map.decodedLength !== expected.length) return false;
      for (let i = 0; i < expected.length; i++) {
        const [a, b] = map.toSource(i, i + 1);
        if (a !== expected[i]![0] || b !== expected[i]![1]) return false;
      }
      // A map built earlier still describes what had been written then.
      for (const snap of snapshots) {
        for (let i = 0; i < snap.length; i++) {
          const [a, b] = snap.map.toSource(i, i + 1);
          if (a !== expected[i]![0] || b !== expected[i]![1]) return false;
        }
      }
      return true;
    }),
    { seed: 20261206, numRuns: 200 },
  );
  t.pass('every decoded byte maps to its unit, offsets past 2^32 included');
});
