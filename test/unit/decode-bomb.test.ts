// Decompression bombs must end in KDLP_DECODE_BOMB after bounded work and
// memory. Bombs are generated here with zlib (never committed).
import t from 'tap';
import * as zlib from 'node:zlib';
import { Readable, Writable, type Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { createContentDecoder, decodeContentSync, DecodeError, type DecodeLimits } from '../../proxy/scan/decode';

const MiB = 1024 * 1024;
const GiB = 1024 * MiB;

/** Compress `total` zero bytes chunk by chunk, so making the bomb needs no big buffer. */
function compressZeros(compressor: Transform, total: number): Promise<Buffer> {
  return compressRepeated(compressor, Buffer.alloc(MiB), total);
}

/** Compress `block` repeated until `total` bytes. */
async function compressRepeated(compressor: Transform, block: Buffer, total: number): Promise<Buffer> {
  const out: Buffer[] = [];
  await pipeline(
    Readable.from(
      (function* () {
        for (let sent = 0; sent < total; sent += block.length) yield block;
      })(),
    ),
    compressor,
    new Writable({
      write(chunk: Buffer, _enc, cb) {
        out.push(chunk);
        cb();
      },
    }),
  );
  return Buffer.concat(out);
}

interface BombRun {
  error: unknown;
  decodedBytes: number;
  compressedBytesRead: number;
  rssGrowth: number;
}

/** Feed `pieces` to a decoder, discard its output, and watch RSS. */
async function detonate(pieces: Buffer[], header: string, limits: DecodeLimits): Promise<BombRun> {
  const baseline = process.memoryUsage.rss();
  let peak = baseline;
  let decodedBytes = 0;
  let compressedBytesRead = 0;
  const source = Readable.from(
    (function* () {
      for (const piece of pieces) {
        compressedBytesRead += piece.length;
        yield piece;
      }
    })(),
  );
  const sink = new Writable({
    write(chunk: Buffer, _enc, cb) {
      decodedBytes += chunk.length;
      peak = Math.max(peak, process.memoryUsage.rss());
      cb();
    },
  });
  const error = await pipeline(source, createContentDecoder(header, limits), sink).then(
    () => null,
    (err: unknown) => err,
  );
  peak = Math.max(peak, process.memoryUsage.rss());
  return { error, decodedBytes, compressedBytesRead, rssGrowth: peak - baseline };
}

function splitInto(buf: Buffer, size: number): Buffer[] {
  const pieces: Buffer[] = [];
  for (let i = 0; i < buf.length; i += size) pieces.push(buf.subarray(i, i + size));
  return pieces;
}

t.test('a 10 GiB gzip bomb stops at maxOutputBytes with bounded memory', async (t) => {
  // gzip members concatenate (RFC 1952 §2.2), so one 64 MiB member repeated
  // 160 times is a valid 10 GiB stream of ~10 MB.
  const member = await compressZeros(zlib.createGzip(), 64 * MiB);
  const copies = 160;
  const pieces = Array.from({ length: copies }, () => member);
  const compressed = member.length * copies;

  const run = await detonate(pieces, 'gzip', { maxOutputBytes: 64 * MiB, maxRatio: 1e9 });
  t.ok(run.error instanceof DecodeError, 'fails with a DecodeError');
  t.equal((run.error as DecodeError).code, 'KDLP_DECODE_BOMB');
  t.match((run.error as Error).message, /maxOutputBytes 67108864/, 'message names the limit');
  t.ok(run.decodedBytes <= 64 * MiB, `no more than maxOutputBytes is passed on (${run.decodedBytes})`);
  t.ok(run.compressedBytesRead < compressed, `input stops being read (${run.compressedBytesRead} of ${compressed} bytes)`);
  t.comment(`gzip bomb: ${(member.length * copies) / MiB} MiB compressed -> ${(64 * copies) / 1024} GiB; RSS growth ${(run.rssGrowth / MiB).toFixed(1)} MiB`);
  t.ok(run.rssGrowth < 256 * MiB, 'RSS growth stays bounded');
  // Checked after the measurement: this allocates the 64 MiB it decodes.
  t.equal(decodeContentSync(member, 'gzip', { maxOutputBytes: 64 * MiB, maxRatio: 1e9 }).length, 64 * MiB, 'a member really is 64 MiB of zeros');
});

t.test('the ratio cap trips after the grace, long before the output cap', async (t) => {
  const bomb = await compressZeros(zlib.createGzip(), 256 * MiB);
  const run = await detonate(splitInto(bomb, 64 * 1024), 'gzip', { maxOutputBytes: GiB, maxRatio: 100 });
  t.equal((run.error as DecodeError).code, 'KDLP_DECODE_BOMB');
  t.match((run.error as Error).message, /maxRatio 100/);
  t.ok(run.decodedBytes <= 2 * MiB, `stopped just past the 1 MiB grace (${run.decodedBytes})`);

  // Below the grace, a high ratio is fine: small repetitive bodies are normal.
  const small = zlib.gzipSync(Buffer.alloc(512 * 1024));
  const ok = await detonate([small], 'gzip', { maxOutputBytes: GiB, maxRatio: 100 });
  t.equal(ok.error, null, 'a 512 KiB body of zeros is accepted');
  t.equal(ok.decodedBytes, 512 * 1024);
  t.equal(decodeContentSync(small, 'gzip', { maxOutputBytes: GiB, maxRatio: 100 }).length, 512 * 1024, 'sync agrees');

  const custom = await detonate([small], 'gzip', { maxOutputBytes: GiB, maxRatio: 100, ratioGraceBytes: 64 * 1024 });
  t.equal((custom.error as DecodeError).code, 'KDLP_DECODE_BOMB', 'a smaller grace is honoured');
});

t.test('deflate (zlib and raw) and brotli bombs', async (t) => {
  const bombs: Array<[string, Buffer]> = [
    ['deflate', await compressZeros(zlib.createDeflate(), 512 * MiB)],
    ['deflate', await compressZeros(zlib.createDeflateRaw({ level: 1 }), 512 * MiB)],
    ['br', await compressZeros(zlib.createBrotliCompress({ params: { [zlib.constants.BROTLI_PARAM_QUALITY]: 4 } }), GiB)],
  ];
  for (const [header, bomb] of bombs) {
    const run = await detonate(splitInto(bomb, 16 * 1024), header, { maxOutputBytes: 32 * MiB, maxRatio: 1e9 });
    t.equal((run.error as DecodeError).code, 'KDLP_DECODE_BOMB', `${header} (${bomb.length} bytes) is a bomb`);
    t.ok(run.decodedBytes <= 32 * MiB, `${header}: output capped (${run.decodedBytes})`);
    t.ok(run.rssGrowth < 256 * MiB, `${header}: RSS growth bounded (${(run.rssGrowth / MiB).toFixed(1)} MiB)`);
    const byRatio = await detonate(splitInto(bomb, 16 * 1024), header, { maxOutputBytes: GiB, maxRatio: 50 });
    t.match(byRatio.error, { code: 'KDLP_DECODE_BOMB', message: /maxRatio 50/ }, `${header}: ratio cap, streaming`);
    t.throws(() => decodeContentSync(bomb, header, { maxOutputBytes: 32 * MiB, maxRatio: 1e9 }), { code: 'KDLP_DECODE_BOMB' }, `${header} sync`);
    t.throws(() => decodeContentSync(bomb, header, { maxOutputBytes: GiB, maxRatio: 50 }), { code: 'KDLP_DECODE_BOMB', message: /maxRatio 50/ }, `${header} sync ratio`);
  }
});

t.test('a bomb under an outer coding is caught', async (t) => {
  // br(gzip(1 GiB of zeros)): the inner layer expands, the outer barely does.
  const inner = await compressZeros(zlib.createGzip(), GiB);
  const outer = zlib.brotliCompressSync(inner);
  const run = await detonate(splitInto(outer, 16 * 1024), 'gzip, br', { maxOutputBytes: 16 * MiB, maxRatio: 1e9 });
  t.equal((run.error as DecodeError).code, 'KDLP_DECODE_BOMB');
  t.ok(run.decodedBytes <= 16 * MiB, `output capped (${run.decodedBytes})`);
  t.throws(() => decodeContentSync(outer, 'gzip, br', { maxOutputBytes: 16 * MiB, maxRatio: 1e9 }), { code: 'KDLP_DECODE_BOMB' });
});

t.test('an inner layer expanding into output-less data is capped too', async (t) => {
  // Empty gzip members are valid and decode to nothing: 256 MiB of them,
  // gzipped again, is a small body whose final output is empty while its
  // inner layer is huge. Only a per-layer cap stops that work.
  const emptyMember = zlib.gzipSync(Buffer.alloc(0));
  const block = Buffer.concat(Array.from({ length: Math.floor(MiB / emptyMember.length) }, () => emptyMember));
  const body = await compressRepeated(zlib.createGzip(), block, 256 * MiB);
  const run = await detonate(splitInto(body, 16 * 1024), 'gzip, gzip', { maxOutputBytes: 16 * MiB, maxRatio: 1e9 });
  t.equal(run.decodedBytes, 0, 'the final layer never produced anything');
  t.equal((run.error as DecodeError).code, 'KDLP_DECODE_BOMB');
  t.throws(() => decodeContentSync(body, 'gzip, gzip', { maxOutputBytes: 16 * MiB, maxRatio: 1e9 }), { code: 'KDLP_DECODE_BOMB' }, 'sync');
  // Same shape, small enough: accepted and empty.
  const small = zlib.gzipSync(Buffer.concat([emptyMember, emptyMember, emptyMember]));
  t.equal(decodeContentSync(small, 'gzip, gzip', { maxOutputBytes: 16 * MiB, maxRatio: 1e9 }).length, 0, 'empty members decode to nothing');
});
