// The streamed normalized view: cut into pieces at safe places, it reads a
// body exactly as normalizing the whole body at once does, so an obfuscated
// card (full-width digits, entities, zero-width characters, dotted or one
// digit per line, UTF-16) is found past the hold-back window and across any
// chunking, before the watermark passes it.
import t from 'tap';
import fc from 'fast-check';
import { feed, scanner, tree as viewTree } from './view-tree-harness';
import { MAX_PIECE_BYTES, characterBoundary, safeCut } from '../../proxy/inspect-pipeline/views/normalize-view';
import { normalizeAs, detectUtf16, type Utf16 } from '../../proxy/scan/decode/normalize';

const CARD = '4111111111111111';

function tree(enabled: ReadonlySet<string>) {
  return viewTree({ enabled });
}

/** Ways a person hides a card number that they would still read at a glance. */
const obfuscations: Record<string, (card: string) => string> = {
  fullWidth: (c) => [...c].map((d) => String.fromCharCode(0xff10 + Number(d))).join(''),
  decimalEntities: (c) => [...c].map((d) => `&#${d.charCodeAt(0)};`).join(''),
  hexEntities: (c) => [...c].map((d) => `&#x${d.charCodeAt(0).toString(16)};`).join(''),
  zeroWidth: (c) => [...c].join('\u200b'),
  dotted: (c) => c.match(/.{4}/g)!.join('.'),
  onePerLine: (c) => [...c].join('\n'),
  mixed: (c) => c.slice(0, 6) + [...c.slice(6, 10)].map((d) => String.fromCharCode(0xff10 + Number(d))).join('') + `&#${c.charCodeAt(10)};` + c.slice(11),
};
const NAMES = Object.keys(obfuscations);

const ALL = new Set(['gzip', 'deflate', 'br', 'percent', 'json', 'base64', 'multipart', 'normalize']);

t.test('an obfuscated card past any window is found before the watermark passes it (property)', async (t) => {
  await fc.assert(
    fc.asyncProperty(
      fc.constantFrom(...NAMES),
      fc.integer({ min: 0, max: 200_000 }),
      fc.boolean(),
      fc.array(fc.integer({ min: 1, max: 30_000 }), { minLength: 1, maxLength: 5 }),
      fc.double({ min: 0, max: 1, noNaN: true }),
      async (how, before, utf16, rest, into) => {
        const filler = (n: number) => 'lorem ipsum, dolor 12 sit. '.repeat(Math.ceil(n / 27)).slice(0, n);
        const text = `${filler(before)} card: ${obfuscations[how](CARD)} ok ${filler(2000)}`;
        const prefix = `${filler(before)} card: `;
        const body = utf16 ? Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from(text, 'utf16le')]) : Buffer.from(text);
        const secretEnd = utf16 ? 2 + Buffer.byteLength(prefix + obfuscations[how](CARD), 'utf16le') : Buffer.byteLength(prefix + obfuscations[how](CARD));
        // The first chunk ends inside the obfuscated card; then random sizes.
        const secretFrom = utf16 ? 2 + Buffer.byteLength(prefix, 'utf16le') : Buffer.byteLength(prefix);
        const sizes = [secretFrom + Math.floor(into * (secretEnd - secretFrom)) + 1, ...rest];
        const { views, found, problems } = tree(ALL);
        let breached = false;
        await feed(views, body, sizes, () => {
          if (found.length === 0 && views.safe >= secretEnd) breached = true;
        });
        if (problems.length > 0) throw new Error(`problems: ${JSON.stringify(problems)}`);
        if (breached) throw new Error(`watermark passed the ${how} card before it was found`);
        const hit = found.find((f) => f.finding.detector === 'pci.card-number');
        if (!hit) throw new Error(`${how}${utf16 ? ' (UTF-16)' : ''} card at ${before} not found`);
        // Offsets are raw: the span covers the obfuscated digits.
        const secretStart = secretFrom;
        if (hit.finding.start < secretStart - 2 || hit.finding.end > secretEnd + 2) {
          throw new Error(`${how}: finding at [${hit.finding.start}, ${hit.finding.end}) outside the secret [${secretStart}, ${secretEnd})`);
        }
        if (!utf16 && how !== 'dotted' && how !== 'onePerLine' && how !== 'zeroWidth' && hit.unredactable === undefined) {
          throw new Error(`${how}: a normalized-only finding must say it cannot be masked in the raw bytes`);
        }
      },
    ),
    { numRuns: 60, seed: 1207 },
  );
});

t.test('with normalize off, the same obfuscations are not seen (the switch is real)', async (t) => {
  const off = new Set([...ALL].filter((d) => d !== 'normalize'));
  for (const how of ['fullWidth', 'decimalEntities', 'zeroWidth']) {
    const { views, found } = tree(off);
    await feed(views, Buffer.from(`x card: ${obfuscations[how](CARD)} y`), [7]);
    t.equal(found.length, 0, `${how} passes without the view`);
    const on = tree(ALL);
    await feed(on.views, Buffer.from(`x card: ${obfuscations[how](CARD)} y`), [7]);
    t.equal(on.found.length, 1, `${how} is found with it`);
  }
});

t.test('a plain body costs no normalized output', async (t) => {
  const { views, found } = tree(new Set(['normalize']));
  const body = Buffer.from('{"order": 1234, "note": "nothing to see"}\n'.repeat(5000));
  await feed(views, body, [16384]);
  t.equal(found.length, 0);
  t.equal(views.safe, body.length, 'everything is released');
});

t.test('one obfuscated number in a large piece costs its neighbourhood, not a second scan of the piece', async (t) => {
  const { views, found, meter } = tree(new Set(['normalize']));
  const line = Buffer.from('{"order": "abc", "note": "nothing to see here"}\n');
  const body = Buffer.alloc(256 * 1024);
  for (let i = 0; i < body.length; i++) body[i] = line[i % line.length];
  const at = 100_000;
  Buffer.from(` ${obfuscations.dotted(CARD)} `).copy(body, at);
  await feed(views, body, [65536]);
  t.equal(found.length, 1, 'the dotted card is found');
  t.equal(found[0]?.finding.view, 'normalized');
  t.same([found[0]?.finding.start, found[0]?.finding.end], [at + 1, at + 1 + 19], 'at its raw span');
  const viewBytes = meter.bytes - body.length;
  t.ok(viewBytes > 0, 'the normalized view scanned something');
  // One part (about 8 KiB, up to the next safe cut) and the tail context on each side.
  const tail = Math.min(scanner.maxMatchWidth, 65536);
  t.ok(viewBytes <= 2 * 8192 + 2 * tail, `the view scanned ${viewBytes} bytes for one number in 64 KiB chunks`);
});

/** Pieces as the view cuts them while `sizes`-sized chunks arrive. */
function cutLikeTheView(body: Buffer, sizes: number[], utf16: Utf16): Buffer[] {
  const pieces: Buffer[] = [];
  let pending = Buffer.alloc(0);
  for (let at = 0, i = 0; at < body.length; i++) {
    pending = Buffer.concat([pending, body.subarray(at, at + sizes[i % sizes.length])]);
    at += sizes[i % sizes.length];
    let cut = safeCut(pending, utf16);
    if (cut <= 0 && pending.length >= MAX_PIECE_BYTES) cut = characterBoundary(pending, utf16);
    if (cut > 0) {
      pieces.push(pending.subarray(0, cut));
      pending = pending.subarray(cut);
    }
  }
  if (pending.length > 0) pieces.push(pending);
  return pieces;
}

// Digit groups are frequent so that joinable chains of 9+ digits occur often.
const ATOMS = ['a', 'Z', 'x', '4', '1', '0', '4111', '12345', '9876 ', '5', '5', '5', '.', '/', '_', '|', ' ', '\n', '\r\n', ',', ';', '#', '&', '&#52;', '&#x31;', '&amp;', '&nbsp;', '４', '\u200b', '\u2013', 'é', '日'];

t.test('pieces cut at safe places normalize exactly like the whole (property)', async (t) => {
  fc.assert(
    fc.property(
      fc.array(fc.constantFrom(...ATOMS), { minLength: 0, maxLength: 400 }),
      fc.boolean(),
      fc.array(fc.integer({ min: 1, max: 64 }), { minLength: 1, maxLength: 5 }),
      (atoms, utf16, sizes) => {
        const text = atoms.join('');
        const body = utf16 ? Buffer.from(text, 'utf16le') : Buffer.from(text);
        const as: Utf16 = utf16 ? 'le' : null;
        const whole = normalizeAs(body, as)?.data ?? body;
        const joined = Buffer.concat(cutLikeTheView(body, sizes, as).map((p) => normalizeAs(p, as)?.data ?? p));
        if (!whole.equals(joined)) throw new Error(`differs for ${JSON.stringify(text)}:\n${whole.toString()}\n${joined.toString()}`);
      },
    ),
    { numRuns: 2000, seed: 77 },
  );
});

t.test('safe cuts', async (t) => {
  t.equal(safeCut(Buffer.from('4111 1111'), null), 0, 'no cut inside a digit chain');
  t.equal(safeCut(Buffer.from('card: 4111.1111'), null), 5, 'after the colon, before the chain');
  t.equal(safeCut(Buffer.from('x &#52'), null), 1, 'not inside an open reference');
  t.equal(safeCut(Buffer.from('&#52;abc'), null), 0, 'not within reach of an `&`');
  t.equal(safeCut(Buffer.from('&#52;' + 'b'.repeat(20)), null), 25);
  t.equal(safeCut(Buffer.from('ab', 'utf16le'), 'le'), 4, 'UTF-16 cuts fall on code units');
  t.equal(characterBoundary(Buffer.from('a日'), null), 1, 'a forced cut never splits a UTF-8 character');
  t.equal(characterBoundary(Buffer.from('a日').subarray(0, 3), null), 1);
  t.equal(detectUtf16(Buffer.from([0xff, 0xfe, 0x41, 0])), 'le');
});

t.test('a digit chain longer than a piece is cut, and released, in bounded pieces', async (t) => {
  const { views, found } = tree(ALL);
  const chain = Buffer.from('1.'.repeat(100_000));
  let steps = 0;
  let maxHeld = 0;
  await feed(views, chain, [4096], () => {
    steps++;
    maxHeld = Math.max(maxHeld, Math.min(chain.length, steps * 4096) - views.safe);
  });
  t.equal(found.length, 0);
  t.equal(views.safe, chain.length);
  t.ok(maxHeld <= MAX_PIECE_BYTES + 4096 + scanner.maxMatchWidth, `held at most ${maxHeld} bytes`);
});
