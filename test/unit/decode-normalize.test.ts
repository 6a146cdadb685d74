// The normalized view: each obfuscation a reader undoes at a glance is undone,
// offsets map back to the raw bytes that held the value, plain text yields no
// view, and (property) for any digit string hidden with any mix of the
// obfuscations, the view holds the digits and maps them back to exactly the
// raw span they were written in.
import t from 'tap';
import fc from 'fast-check';
import { normalizeText, detectUtf16, decodeViews } from '../../proxy/scan/decode';
import { mayNeedNormalizing } from '../../proxy/scan/decode/normalize';
import { createScanner } from '../../proxy/scan';
import { inspectBuffer } from '../../proxy/scan/inspect';

function viewOf(raw: Buffer): { text: string; rawOf(sub: string): string } {
  const n = normalizeText(raw);
  if (!n) throw new Error('no view');
  const text = n.data.toString('utf8');
  return {
    text,
    rawOf(sub: string) {
      const i = n.data.indexOf(sub);
      if (i < 0) throw new Error(`${sub} not in view`);
      const [s, e] = n.map.toSource(i, i + Buffer.byteLength(sub));
      return raw.subarray(s, e).toString('latin1');
    },
  };
}

t.test('each obfuscation is undone and maps back', async (t) => {
  const cases: Array<[string, Buffer, string]> = [
    ['full-width digits', Buffer.from('pan ４１１１１１１１１１１１１１１１ end'), '４１１１１１１１１１１１１１１１'],
    ['zero-width between digits', Buffer.from('pan 4111\u200b1111\u200c1111\u2060111\ufeff1 end'), '4111\u200b1111\u200c1111\u2060111\ufeff1'],
    ['decimal and hex entities', Buffer.from('pan &#52;&#x31;11111111111111 end'), '&#52;&#x31;11111111111111'],
    ['dots', Buffer.from('pan 4111.1111.1111.1111 end'), '4111.1111.1111.1111'],
    ['slashes', Buffer.from('pan 4111/1111/1111/1111 end'), '4111/1111/1111/1111'],
    ['one digit per line (CRLF)', Buffer.from('pan\r\n' + '4111111111111111'.split('').join('\r\n') + '\r\nend'), '4111111111111111'.split('').join('\r\n')],
    ['spaced single digits', Buffer.from('pan 4 1 1 1 1 1 1 1 1 1 1 1 1 1 1 1 end'), '4 1 1 1 1 1 1 1 1 1 1 1 1 1 1 1'],
  ];
  for (const [name, raw, rawValue] of cases) {
    const v = viewOf(raw);
    t.match(v.text, /4111111111111111/, `${name}: digits joined`);
    t.equal(v.rawOf('4111111111111111'), Buffer.from(rawValue).toString('latin1'), `${name}: maps back to the raw value`);
  }
});

t.test('UTF-16 bodies, with and without a BOM, both byte orders', async (t) => {
  const text = 'ssn 536-22-1234 and card 4111111111111111';
  const le = Buffer.from(text, 'utf16le');
  const be = Buffer.from(le).swap16();
  for (const [name, raw] of [['le', le], ['le+bom', Buffer.concat([Buffer.from([0xff, 0xfe]), le])], ['be', be], ['be+bom', Buffer.concat([Buffer.from([0xfe, 0xff]), be])]] as const) {
    t.ok(detectUtf16(raw), `${name} detected`);
    const v = viewOf(raw);
    t.equal(v.text, text, `${name}: decoded`);
    const span = v.rawOf('4111111111111111');
    t.equal(span.length, 32, `${name}: 16 characters map to 32 raw bytes`);
  }
});

t.test('NFKC letters and punctuation, dashes, entities that are not digits', async (t) => {
  t.equal(viewOf(Buffer.from('Ｊｏｈｎ：＋４４　２０')).text, 'John:+44 20');
  t.equal(viewOf(Buffer.from('536\u201322\u20121234')).text, '536-22-1234');
  t.equal(viewOf(Buffer.from('a&amp;b &lt;x&gt; user&commat;example.com')).text, 'a&b <x> user@example.com');
  t.equal(viewOf(Buffer.from('&#8203;4&#8203;')).text, '4', 'an entity for a zero-width character is dropped too');
});

t.test('nothing to normalize: no view', async (t) => {
  for (const s of ['plain ascii text', 'version 1.2.3.4 on 2024/01/15, page 1 2', 'ip 10.0.0.1', 'R&D and &unknown; &#;', 'café ünïcödé stays']) {
    t.equal(normalizeText(Buffer.from(s)), null, s);
  }
  t.equal(normalizeText(Buffer.alloc(0)), null, 'empty');
});

t.test('invalid UTF-8 bytes are kept and mapped 1:1', async (t) => {
  const raw = Buffer.concat([Buffer.from('x\xff'.slice(0, 1)), Buffer.from([0xff, 0xc3]), Buffer.from(' ４１ ')]);
  const n = normalizeText(raw)!;
  t.ok(n, 'view');
  t.same([...n.data.subarray(0, 3)], [0x78, 0xff, 0xc3]);
  t.same(n.map.toSource(1, 2), [1, 2]);
});

t.test('property: hidden digit strings surface and map back exactly', async () => {
  const obfuscate = fc.constantFrom<(d: string) => string>(
    (d) => [...d].map((c) => String.fromCharCode(0xff10 + Number(c))).join(''),
    (d) => [...d].join('\u200b'),
    (d) => [...d].map((c, i) => (i % 2 ? `&#${c.charCodeAt(0)};` : c)).join(''),
    (d) => d.replace(/(\d{4})(?=\d)/g, '$1.'),
    (d) => [...d].join('\n'),
    (d) => [...d].map((c) => `&#x${c.charCodeAt(0).toString(16)};`).join(''),
  );
  fc.assert(
    fc.property(
      fc.stringMatching(/^[1-9][0-9]{9,17}$/),
      obfuscate,
      fc.stringMatching(/^[a-z :]{0,12}$/),
      fc.stringMatching(/^[a-z :]{0,12}$/),
      (digits, hide, before, after) => {
        const hidden = hide(digits);
        const raw = Buffer.from(`${before} ${hidden} ${after}`);
        const n = normalizeText(raw);
        if (!n) return false;
        const i = n.data.indexOf(digits);
        if (i < 0) return false;
        const [s, e] = n.map.toSource(i, i + digits.length);
        return raw.subarray(s, e).toString('utf8') === hidden;
      },
    ),
    { seed: 1414, numRuns: 400 },
  );
});

t.test('registered as a decoded view and used by inspectBuffer (kube-dlp scan)', async (t) => {
  const raw = Buffer.from('{"note": "card ４１１１ １１１１ １１１１ １１１１"}');
  const { views } = decodeViews(raw, { contentType: 'application/json' });
  t.ok(views.some((v) => v.view === 'normalized'), 'normalized view listed');
  const scanner = createScanner({});
  const result = inspectBuffer(scanner, raw, { contentType: 'application/json' });
  const card = result.findings.find((f) => f.detector === 'pci.card-number');
  t.ok(card, 'card found');
  t.equal(card?.view, 'normalized');
  t.equal(raw.subarray(card!.start, card!.end).toString('utf8'), '４１１１ １１１１ １１１１ １１１１', 'reported at the raw full-width span');
  t.notOk(scanner.scan(raw).some((f) => f.detector === 'pci.card-number'), 'the raw bytes alone hide it');
});

/** Texts of digit groups and the bytes around and between them. */
const TEXT_PARTS = fc.array(
  fc.oneof(fc.constantFrom('.', '/', '_', '|', '\n', '\r', '\r\n', ' ', '  ', 'a', '"', ':', '&', 'é'), fc.stringMatching(/^[0-9]{1,12}$/)),
  { maxLength: 40 },
);

t.test('property: the pre-check that skips ordinary text answers as a byte-by-byte walk does', async (t) => {
  // The rule written as a walk over every byte: a digit chain joined by
  // separators (a space only between single digits) with 9 digits.
  const isDigit = (b: number) => b >= 0x30 && b <= 0x39;
  const joinable = new Set([0x2e, 0x2f, 0x5f, 0x7c, 0x0a, 0x0d]);
  const walk = (src: Buffer): boolean => {
    let chainDigits = 0;
    let groupDigits = 0;
    let joined = false;
    for (let i = 0; i < src.length; i++) {
      const b = src[i];
      if (b >= 0x80 || b === 0x26) return true;
      if (isDigit(b)) {
        chainDigits++;
        groupDigits++;
        if (joined && chainDigits >= 9) return true;
        continue;
      }
      if (chainDigits > 0 && (joinable.has(b) || b === 0x20)) {
        const next = b === 0x0d && src[i + 1] === 0x0a ? i + 2 : i + 1;
        const singleAfter = next < src.length && isDigit(src[next]) && !isDigit(src[next + 1]);
        if (next < src.length && isDigit(src[next]) && (b !== 0x20 || (groupDigits === 1 && singleAfter))) {
          joined = true;
          groupDigits = 0;
          i = next - 1;
          continue;
        }
      }
      chainDigits = 0;
      groupDigits = 0;
      joined = false;
    }
    return false;
  };
  fc.assert(
    fc.property(TEXT_PARTS, (parts) => {
      const src = Buffer.from(parts.join(''));
      return mayNeedNormalizing(src) === walk(src);
    }),
    { seed: 1204, numRuns: 3000 },
  );
  t.pass('same answer as the walk on 3000 texts');
});

t.test('property: text the pre-check skips normalizes to nothing (the skip loses no view)', async (t) => {
  fc.assert(
    fc.property(TEXT_PARTS, (parts) => {
      const src = Buffer.from(parts.join(''));
      return mayNeedNormalizing(src) || normalizeText(src) === null;
    }),
    { seed: 1205, numRuns: 5000 },
  );
  t.pass('no skipped text had a view');
});

t.test('a card in spaced groups of four is not sent through the full pass; spaced single digits are', async (t) => {
  t.notOk(mayNeedNormalizing(Buffer.from('{"pan": "4111 1111 1111 1111"}')), 'groups of four: detectors read it as it is');
  t.ok(mayNeedNormalizing(Buffer.from('{"pan": "4 1 1 1 1 1 1 1 1 1 1 1"}')), 'single digits: joined');
  t.ok(mayNeedNormalizing(Buffer.from('{"pan": "4111 1111.1111.1111.1"}')), 'a dotted chain after a spaced group still counts');
});
