// The gRPC length-prefix reader (proxy/h2/grpc-frames.ts) and the message
// scan that undoes grpc-encoding (proxy/h2/grpc-message-scan.ts). HTTP/2
// DATA frames cut a gRPC body anywhere, so the reader must give back exactly
// the messages that were framed, whatever the chunking; anything it cannot
// frame, and any compression it cannot undo, must come back as a named
// problem rather than as bytes passed on unexamined.
import t from 'tap';
import fc from 'fast-check';
import { deepStrictEqual } from 'node:assert/strict';
import { gzipSync } from 'node:zlib';
import { frameGrpcMessage, GRPC_PREFIX_BYTES, GrpcBoundaryTracker, GrpcFrameReader, type GrpcMessage } from '../../proxy/h2/grpc-frames';
import { inspectGrpcMessage } from '../../proxy/h2/grpc-message-scan';
import { ScanMeter } from '../../proxy/inspect-pipeline/scan-support';
import { parseProfile } from '../../proxy/profile';

const MAX = 4096;

const messageArb = fc.record({
  compressed: fc.boolean(),
  payload: fc.uint8Array({ maxLength: 600 }).map((a) => Buffer.from(a)),
});

/** Cut `bytes` at the given offsets (any order, duplicates allowed: zero-length chunks are legal too). */
function cutAt(bytes: Buffer, offsets: number[]): Buffer[] {
  const points = [...offsets.map((o) => o % (bytes.length + 1)), bytes.length].sort((a, b) => a - b);
  const chunks: Buffer[] = [];
  let from = 0;
  for (const to of points) {
    chunks.push(bytes.subarray(from, to));
    from = to;
  }
  return chunks;
}

function readAll(reader: GrpcFrameReader, chunks: Buffer[]): GrpcMessage[] {
  const out: GrpcMessage[] = [];
  for (const chunk of chunks) {
    const pushed = reader.push(chunk);
    if (pushed.problem) throw new Error(`unexpected problem ${pushed.problem.code}`);
    out.push(...pushed.messages);
  }
  return out;
}

const plain = (m: GrpcMessage) => ({ compressed: m.compressed, payload: Buffer.from(m.payload).toString('hex') });

t.test('property: messages split at random chunk boundaries parse back to the same messages', async (t) => {
  // fc.assert throws (with the shrunk counterexample) when a run fails.
  fc.assert(
    fc.property(fc.array(messageArb, { maxLength: 12 }), fc.array(fc.nat(), { maxLength: 30 }), (messages, offsets) => {
      const wire = Buffer.concat(messages.map(frameGrpcMessage));
      const reader = new GrpcFrameReader(MAX);
      const parsed = readAll(reader, cutAt(wire, offsets));
      deepStrictEqual(parsed.map(plain), messages.map(plain));
      return reader.partialBytes === 0 && reader.end() === undefined;
    }),
    { numRuns: 300 },
  );
  t.pass('300 random message sequences and chunkings round-trip');
});

t.test('property: a body cut inside a message yields the whole messages before it, and end() names the truncation', async (t) => {
  fc.assert(
    fc.property(fc.array(messageArb, { minLength: 1, maxLength: 8 }), fc.nat(), fc.array(fc.nat(), { maxLength: 10 }), (messages, cut, offsets) => {
      const framed = messages.map(frameGrpcMessage);
      const wire = Buffer.concat(framed);
      const lastStart = wire.length - framed[framed.length - 1]!.length;
      // Keep at least one byte of the last message, never all of it.
      const keep = lastStart + 1 + (cut % framed[framed.length - 1]!.length);
      if (keep >= wire.length) return true;
      const reader = new GrpcFrameReader(MAX);
      const parsed = readAll(reader, cutAt(wire.subarray(0, keep), offsets));
      deepStrictEqual(parsed.map(plain), messages.slice(0, -1).map(plain));
      const problem = reader.end();
      return problem?.code === 'KDLP_GRPC_TRUNCATED' && problem.reason.includes(`${keep - lastStart} bytes held back`);
    }),
    { numRuns: 200 },
  );
  t.pass('200 random truncations reported');
});

t.test('property: the boundary tracker is at a boundary exactly where a message ends, whatever the chunking', async (t) => {
  fc.assert(
    fc.property(fc.array(messageArb, { maxLength: 10 }), fc.array(fc.nat(), { maxLength: 30 }), (messages, offsets) => {
      const framed = messages.map(frameGrpcMessage);
      const wire = Buffer.concat(framed);
      const ends = new Set<number>([0]);
      let at = 0;
      for (const f of framed) ends.add((at += f.length));
      const tracker = new GrpcBoundaryTracker();
      let fed = 0;
      for (const chunk of cutAt(wire, offsets)) {
        tracker.feed(chunk);
        fed += chunk.length;
        deepStrictEqual(tracker.atBoundary, ends.has(fed), `after ${fed} of ${wire.length} bytes`);
      }
      return tracker.atBoundary;
    }),
    { numRuns: 300 },
  );
  t.pass('300 random message sequences and chunkings tracked');
});

t.test('a declared length beyond the limit stops framing after the messages before it', async (t) => {
  const reader = new GrpcFrameReader(MAX);
  const first = frameGrpcMessage({ compressed: false, payload: Buffer.from('before') });
  const hugePrefix = Buffer.from([0, 0, 0, 0, 0]);
  hugePrefix.writeUInt32BE(MAX + 1, 1);
  const pushed = reader.push(Buffer.concat([first, hugePrefix, Buffer.from('tail')]));
  t.same(pushed.messages.map(plain), [plain({ compressed: false, payload: Buffer.from('before') })], 'the message before the bad prefix is kept');
  t.equal(pushed.problem?.code, 'KDLP_BODY_TOO_LARGE');
  t.match(pushed.problem?.reason, `${MAX + 1} bytes exceeds maxBodyBytes (${MAX})`);
  t.same(reader.push(Buffer.from('more')), { messages: [], problem: pushed.problem }, 'the reader stays stopped');
  t.same(reader.takeHeld(), Buffer.concat([hugePrefix, Buffer.from('tail'), Buffer.from('more')]), 'the unframed bytes are handed over, none lost');
  t.equal(reader.end(), pushed.problem, 'end() reports why framing stopped, not a truncation');

  const atLimit = new GrpcFrameReader(MAX);
  const exact = frameGrpcMessage({ compressed: false, payload: Buffer.alloc(MAX, 0x61) });
  t.equal(atLimit.push(exact).messages[0]?.payload.length, MAX, 'a message of exactly the limit is accepted');
});

t.test('the limit is checked on the prefix alone: an oversized message is refused before its bytes arrive', async (t) => {
  const reader = new GrpcFrameReader(MAX);
  const prefix = Buffer.from([0, 0xff, 0xff, 0xff, 0xff]);
  const pushed = reader.push(prefix.subarray(0, 3));
  t.same(pushed, { messages: [] }, 'three bytes of a prefix are not enough to judge');
  t.equal(reader.push(prefix.subarray(3)).problem?.code, 'KDLP_BODY_TOO_LARGE');
});

t.test('a compressed-flag byte other than 0 or 1 is malformed', async (t) => {
  const reader = new GrpcFrameReader(MAX);
  const bad = frameGrpcMessage({ compressed: false, payload: Buffer.from('x') });
  bad[0] = 2;
  const pushed = reader.push(bad);
  t.same(pushed.messages, []);
  t.equal(pushed.problem?.code, 'KDLP_GRPC_MALFORMED');
  t.match(pushed.problem?.reason, /compressed-flag 2/);
});

t.test('frameGrpcMessage writes the flag and big-endian length', async (t) => {
  const framed = frameGrpcMessage({ compressed: true, payload: Buffer.from('abc') });
  t.same([...framed.subarray(0, GRPC_PREFIX_BYTES)], [1, 0, 0, 0, 3]);
  t.equal(framed.subarray(GRPC_PREFIX_BYTES).toString(), 'abc');
});

const cfg = parseProfile(`apiVersion: kubedlp.io/v1alpha1
kind: SecurityProfile
metadata:
  name: grpc-frames
  namespace: test-ns
spec:
  mode: Protect
  detectors:
    enable: [pci.card-number]
`);
const CARD = '4111 1111 1111 1111';

t.test('message scan: gzip undone, compression it cannot undo reported as uninspectable with the reason', async (t) => {
  const text = Buffer.from(`{"card":"${CARD}"}`);
  const scan = (m: GrpcMessage, encoding: string | undefined) => inspectGrpcMessage(cfg, new ScanMeter(), m, encoding);

  const plainScan = scan({ compressed: false, payload: text }, undefined);
  t.same(plainScan.findings.map((f) => f.finding.detector), ['pci.card-number']);
  t.equal(plainScan.uninspectable, undefined);

  const gzipped = scan({ compressed: true, payload: gzipSync(text) }, 'gzip');
  t.same(gzipped.findings.map((f) => f.finding.detector), ['pci.card-number'], 'the card inside a gzip message is found');
  t.equal(gzipped.uninspectable, undefined);
  t.ok(gzipped.findings[0]!.unredactable, 'a finding inside compressed bytes cannot be masked in place');

  const noEncoding = scan({ compressed: true, payload: text }, undefined);
  t.equal(noEncoding.uninspectable?.code, 'KDLP_GRPC_COMPRESSION');
  t.match(noEncoding.uninspectable?.reason, /without a grpc-encoding: it cannot be inspected/);
  t.same(noEncoding.findings.map((f) => f.finding.detector), ['pci.card-number'], 'still scanned as sent: a false flag is no hiding place');

  const identity = scan({ compressed: true, payload: text }, 'identity');
  t.equal(identity.uninspectable?.code, 'KDLP_GRPC_COMPRESSION', 'flagged compressed under identity is a contradiction');

  const snappy = scan({ compressed: true, payload: Buffer.from('opaque') }, 'snappy');
  t.equal(snappy.uninspectable?.code, 'KDLP_GRPC_COMPRESSION');
  t.match(snappy.uninspectable?.reason, /grpc-encoding "snappy", which kube-dlp cannot decompress: it cannot be inspected/);

  const hostile = scan({ compressed: true, payload: Buffer.from('opaque') }, `x${CARD}\u0000`);
  t.match(hostile.uninspectable?.reason, /\(malformed value\)/);
  t.notOk(hostile.uninspectable?.reason.includes(CARD), 'a hostile grpc-encoding value is not echoed');

  const snappyButPlain = scan({ compressed: false, payload: text }, 'snappy');
  t.equal(snappyButPlain.uninspectable, undefined, 'an uncompressed message is plain whatever the stream encoding');
  t.same(snappyButPlain.findings.map((f) => f.finding.detector), ['pci.card-number']);
});
