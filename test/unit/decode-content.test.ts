// Content-Encoding decoding: round trips, stacked and odd headers, and the
// error codes for unsupported, corrupt and over-stacked encodings.
import t from 'tap';
import * as zlib from 'node:zlib';
import { Readable, Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import {
  createContentDecoder,
  decodeContentSync,
  DecodeError,
  parseContentEncoding,
  type DecodeLimits,
} from '../../proxy/scan/decode';

const LIMITS: DecodeLimits = { maxOutputBytes: 64 * 1024 * 1024, maxRatio: 1000 };

// Varied text (not just repetition) so every coding has real work to do.
const PLAIN = Buffer.from(
  Array.from({ length: 4000 }, (_, i) => `line ${i}: card 4111111111111111 token=${(i * 7919).toString(36)}\n`).join(''),
);

const encoders: Record<string, (b: Buffer) => Buffer> = {
  gzip: (b) => zlib.gzipSync(b),
  'x-gzip': (b) => zlib.gzipSync(b),
  deflate: (b) => zlib.deflateSync(b),
  br: (b) => zlib.brotliCompressSync(b),
};

/** Apply codings in header order (first listed is applied first). */
function encode(plain: Buffer, header: string): Buffer {
  return header
    .split(',')
    .map((s) => s.trim().toLowerCase())
    .filter((s) => s !== '' && s !== 'identity')
    .reduce((data, coding) => encoders[coding](data), plain);
}

async function decodeStream(
  body: Buffer,
  header: string | undefined,
  limits: DecodeLimits = LIMITS,
  chunkSize = 4096,
): Promise<Buffer> {
  const chunks: Buffer[] = [];
  const pieces: Buffer[] = [];
  for (let i = 0; i < body.length; i += chunkSize) pieces.push(body.subarray(i, i + chunkSize));
  await pipeline(
    Readable.from(pieces),
    createContentDecoder(header, limits),
    new Writable({
      write(chunk: Buffer, _enc, cb) {
        chunks.push(chunk);
        cb();
      },
    }),
  );
  return Buffer.concat(chunks);
}

t.test('each coding round-trips, streaming and sync', async (t) => {
  for (const header of ['gzip', 'x-gzip', 'deflate', 'br']) {
    const body = encode(PLAIN, header);
    t.ok(body.length < PLAIN.length, `${header} actually compressed`);
    t.same(await decodeStream(body, header), PLAIN, `${header} streaming`);
    t.same(decodeContentSync(body, header, LIMITS), PLAIN, `${header} sync`);
  }
});

t.test('raw deflate (no zlib wrapper) is detected and inflated', async (t) => {
  const body = zlib.deflateRawSync(PLAIN);
  t.same(await decodeStream(body, 'deflate'), PLAIN, 'streaming');
  t.same(await decodeStream(body, 'deflate', LIMITS, 1), PLAIN, 'streaming one byte at a time');
  t.same(await decodeStream(zlib.deflateSync(PLAIN), 'deflate', LIMITS, 1), PLAIN, 'zlib-wrapped, one byte at a time');
  t.same(decodeContentSync(body, 'deflate', LIMITS), PLAIN, 'sync');
});

t.test('stacked codings are undone in reverse order', async (t) => {
  for (const header of ['gzip, br', 'br, gzip', 'deflate, gzip', 'gzip,deflate,br']) {
    const body = encode(PLAIN, header);
    t.same(await decodeStream(body, header), PLAIN, `${header} streaming`);
    t.same(decodeContentSync(body, header, LIMITS), PLAIN, `${header} sync`);
  }
  // Applying in the wrong order must not silently "work".
  const body = encode(PLAIN, 'gzip, br');
  t.throws(() => decodeContentSync(body, 'br, gzip', LIMITS), { code: 'KDLP_DECODE_CORRUPT' });
});

t.test('identity, missing header, case and whitespace variations', async (t) => {
  t.same(await decodeStream(PLAIN, undefined), PLAIN, 'no header passes through');
  t.same(await decodeStream(PLAIN, 'identity'), PLAIN, 'identity passes through');
  t.same(await decodeStream(PLAIN, ' Identity , '), PLAIN, 'identity with spaces and empty member');
  t.same(decodeContentSync(PLAIN, '', LIMITS), PLAIN, 'empty header, sync');
  const body = encode(PLAIN, 'gzip, br');
  t.same(await decodeStream(body, '  GZip ,BR  '), PLAIN, 'mixed case and spaces');
  t.same(await decodeStream(body, 'gzip, identity, br'), PLAIN, 'identity inside a stack is ignored');
  t.same(parseContentEncoding('gzip, br'), ['br', 'gzip'], 'decode order is reversed');
  t.same(parseContentEncoding('X-GZIP'), ['gzip'], 'x-gzip is gzip');
});

t.test('an empty body decodes to an empty body', async (t) => {
  for (const header of ['gzip', 'deflate', 'br', 'gzip, br']) {
    t.equal((await decodeStream(Buffer.alloc(0), header)).length, 0, `${header} streaming`);
    t.equal(decodeContentSync(Buffer.alloc(0), header, LIMITS).length, 0, `${header} sync`);
  }
});

t.test('unsupported coding: KDLP_DECODE_UNSUPPORTED from both APIs', async (t) => {
  for (const header of ['compress', 'zstd', 'gzip, foo', 'gzip;q=1']) {
    t.throws(() => createContentDecoder(header, LIMITS), { code: 'KDLP_DECODE_UNSUPPORTED' }, header);
    t.throws(() => decodeContentSync(PLAIN, header, LIMITS), { code: 'KDLP_DECODE_UNSUPPORTED' }, header);
  }
  try {
    createContentDecoder('x'.repeat(200) + '4111111111111111', LIMITS);
    t.fail('should throw');
  } catch (err) {
    t.ok(err instanceof DecodeError, 'is a DecodeError');
    t.notMatch((err as Error).message, /4111/, 'a long peer-supplied token is not echoed');
  }
});

t.test('too many stacked codings: KDLP_DECODE_DEPTH', async (t) => {
  const header = 'gzip, gzip, gzip, gzip';
  t.throws(() => createContentDecoder(header, LIMITS), { code: 'KDLP_DECODE_DEPTH' });
  t.throws(() => decodeContentSync(encode(PLAIN, header), header, LIMITS), { code: 'KDLP_DECODE_DEPTH' });
  const body = encode(PLAIN, header);
  t.same(decodeContentSync(body, header, { ...LIMITS, maxEncodings: 4 }), PLAIN, 'allowed when maxEncodings says so');
  t.throws(() => createContentDecoder('gzip, br', { ...LIMITS, maxEncodings: 1 }), { code: 'KDLP_DECODE_DEPTH' });
});

t.test('corrupt data: KDLP_DECODE_CORRUPT, without payload in the message', async (t) => {
  const secret = Buffer.from('not compressed at all: 4111111111111111 is the card');
  const truncated = encode(PLAIN, 'gzip').subarray(0, 500);
  const badCrc = Buffer.from(encode(PLAIN, 'gzip'));
  badCrc[badCrc.length - 6] ^= 0xff;
  const cases: Array<[string, Buffer, string]> = [
    ['garbage as gzip', secret, 'gzip'],
    ['garbage as deflate', secret, 'deflate'],
    ['garbage as br', secret, 'br'],
    ['truncated gzip', truncated, 'gzip'],
    ['gzip with a bad CRC', badCrc, 'gzip'],
    ['garbage under a valid outer layer', zlib.brotliCompressSync(secret), 'gzip, br'],
    ['a single byte as deflate', Buffer.from([0x78]), 'deflate'],
  ];
  for (const [name, body, header] of cases) {
    const err = await decodeStream(body, header).then(
      () => null,
      (e: unknown) => e,
    );
    t.ok(err instanceof DecodeError, `${name}: streaming rejects with DecodeError`);
    t.equal((err as DecodeError).code, 'KDLP_DECODE_CORRUPT', `${name}: streaming code`);
    t.notMatch((err as Error).message, /4111/, `${name}: no payload in message`);
    t.throws(() => decodeContentSync(body, header, LIMITS), { code: 'KDLP_DECODE_CORRUPT' }, `${name}: sync`);
  }
});

t.test('backpressure: an unread decoder stops decompressing', async (t) => {
  // 64 MiB of output from ~64 KB of input.
  const body = zlib.gzipSync(Buffer.alloc(64 * 1024 * 1024, 'a'));
  // Repeated bytes compress ~1000:1: lift the ratio cap, this test is about flow.
  const decoder = createContentDecoder('gzip', { ...LIMITS, maxRatio: 1e6 });
  const accepted = decoder.write(body);
  // Give the zlib thread pool ample opportunity to run ahead if it could.
  for (let i = 0; i < 20; i++) await new Promise((resolve) => setTimeout(resolve, 10));
  t.equal(accepted, false, 'write() signals backpressure');
  t.ok(
    decoder.readableLength <= 1024 * 1024,
    `decoded bytes buffered while nobody reads stay small (${decoder.readableLength})`,
  );
  let total = 0;
  decoder.on('data', (chunk: Buffer) => {
    total += chunk.length;
  });
  decoder.end();
  await new Promise((resolve) => decoder.on('end', resolve));
  t.equal(total, 64 * 1024 * 1024, 'everything arrives once read');
});

t.test('invalid limits are rejected up front', async (t) => {
  t.throws(() => createContentDecoder('gzip', { maxOutputBytes: 0, maxRatio: 10 }), RangeError);
  t.throws(() => decodeContentSync(PLAIN, 'gzip', { maxOutputBytes: 10, maxRatio: Number.NaN }), RangeError);
});
