// The WebSocket client-frame parser and message gate, against frames made by
// an independent encoder (the `ws` package's Sender): any split of the byte
// stream parses to the same frames, fragmented messages are judged whole,
// a clean message is forwarded byte for byte, and nothing of a refused
// message is forwarded. Protocol violations close with the right code.
import t from 'tap';
import fc from 'fast-check';
import { randomBytes } from 'node:crypto';
import WebSocket from 'ws';
import { ClientFrameParser, OPCODE } from '../../proxy/websocket/frame-parser';
import { ClientMessageGate, type MessageKind, type MessageVerdict } from '../../proxy/websocket/message-gate';
import { clientDataFrame, serverCloseFrame } from '../../proxy/websocket/frames';

interface FrameSpec {
  opcode: number;
  fin: boolean;
  payload: Buffer;
  rsv1?: boolean;
  mask?: boolean;
}

// ws exports its Sender at runtime; @types/ws does not declare it.
const sender = (WebSocket as unknown as { Sender: { frame(data: Buffer, options: object): Buffer[] } }).Sender;

/** A client frame as `ws` would send it (masked unless told otherwise). */
function encode(f: FrameSpec): Buffer {
  // ws masks in place: hand it a copy so the test keeps the plain payload.
  const parts = sender.frame(Buffer.from(f.payload), {
    fin: f.fin,
    opcode: f.opcode,
    mask: f.mask ?? true,
    maskBuffer: randomBytes(4),
    readOnly: false,
    rsv1: f.rsv1 ?? false,
  });
  return Buffer.concat(parts);
}

/** Split `bytes` at the given cut points. */
function split(bytes: Buffer, cuts: number[]): Buffer[] {
  const points = [...new Set(cuts.map((c) => c % (bytes.length + 1)))].sort((a, b) => a - b);
  const out: Buffer[] = [];
  let last = 0;
  for (const p of points) {
    out.push(bytes.subarray(last, p));
    last = p;
  }
  out.push(bytes.subarray(last));
  return out;
}

interface GateRun {
  forwarded: Buffer[];
  judged: Array<{ kind: MessageKind; payload: Buffer }>;
  closed?: { code: number; reason: string };
}

function runGate(chunks: Buffer[], verdict: (payload: Buffer) => MessageVerdict = () => ({ action: 'forward' }), max = 1 << 20): GateRun {
  const run: GateRun = { forwarded: [], judged: [] };
  const gate = new ClientMessageGate({
    maxMessageBytes: max,
    inspect: (payload, kind) => {
      run.judged.push({ kind, payload: Buffer.from(payload) });
      return verdict(payload);
    },
    forward: (b) => run.forwarded.push(Buffer.from(b)),
    close: (code, reason) => (run.closed = { code, reason }),
  });
  for (const c of chunks) gate.write(c);
  return run;
}

const message = fc.record({
  binary: fc.boolean(),
  // Sizes cross the 7-bit (125), 16-bit (65535) length encodings.
  // Large payloads come from a size and a fill byte: fast-check arrays of 60k elements are slow to generate.
  payload: fc.oneof(
    fc.uint8Array({ maxLength: 200 }).map((a) => Buffer.from(a)),
    fc.tuple(fc.integer({ min: 60_000, max: 70_000 }), fc.nat(255)).map(([n, b]) => Buffer.alloc(n, b)),
  ),
  fragments: fc.array(fc.nat(), { maxLength: 4 }),
  pingBefore: fc.boolean(),
});

t.test('property: any message stream, fragmented and chunked at random, is judged whole and forwarded byte for byte', async (t) => {
  fc.assert(
    fc.property(fc.array(message, { minLength: 1, maxLength: 4 }), fc.array(fc.nat(), { maxLength: 12 }), (messages, cuts) => {
      const frames: Buffer[] = [];
      for (const m of messages) {
        const pieces = split(m.payload, m.fragments);
        pieces.forEach((piece, i) => {
          frames.push(encode({ opcode: i === 0 ? (m.binary ? OPCODE.binary : OPCODE.text) : OPCODE.continuation, fin: i === pieces.length - 1, payload: piece }));
          // A control frame may sit between fragments (RFC 6455 §5.4).
          if (m.pingBefore && i === 0 && pieces.length > 1) frames.push(encode({ opcode: OPCODE.ping, fin: true, payload: Buffer.from('p') }));
        });
      }
      const stream = Buffer.concat(frames);
      const run = runGate(split(stream, cuts));
      if (run.closed) return false;
      const dataJudged = run.judged.filter((j) => j.kind === 'text' || j.kind === 'binary');
      if (dataJudged.length !== messages.length) return false;
      if (!dataJudged.every((j, i) => j.payload.equals(messages[i]!.payload))) return false;
      // Every byte forwarded, none invented (order may move a ping ahead of a held fragment).
      const forwarded = Buffer.concat(run.forwarded);
      return forwarded.length === stream.length;
    }),
    { seed: 4242, numRuns: 60 },
  );
});

t.test('property: nothing of a refused message is forwarded, however it is fragmented or chunked', async (t) => {
  const secret = Buffer.from('4111111111111111');
  fc.assert(
    fc.property(fc.uint8Array({ maxLength: 300 }), fc.nat(300), fc.array(fc.nat(), { maxLength: 4 }), fc.array(fc.nat(), { maxLength: 8 }), (noise, at, fragments, cuts) => {
      const before = Buffer.from(noise.slice(0, at % (noise.length + 1)));
      const payload = Buffer.concat([before, secret, Buffer.from(noise.slice(before.length))]);
      const clean = encode({ opcode: OPCODE.text, fin: true, payload: Buffer.from('clean') });
      const pieces = split(payload, fragments);
      const frames = pieces.map((p, i) => encode({ opcode: i === 0 ? OPCODE.binary : OPCODE.continuation, fin: i === pieces.length - 1, payload: p }));
      const run = runGate(split(Buffer.concat([clean, ...frames]), cuts), (p) =>
        p.includes(secret) ? { action: 'close', code: 1008, reason: 'blocked' } : { action: 'forward' },
      );
      return run.closed?.code === 1008 && Buffer.concat(run.forwarded).equals(clean);
    }),
    { seed: 7, numRuns: 200 },
  );
});

t.test('a redacted message is re-framed as one masked frame the parser reads back', async (t) => {
  const run = runGate([encode({ opcode: OPCODE.text, fin: false, payload: Buffer.from('a ') }), encode({ opcode: OPCODE.continuation, fin: true, payload: Buffer.from('b') })], () => ({
    action: 'replace',
    payload: Buffer.from('a *'),
  }));
  t.equal(run.forwarded.length, 1);
  const [frame] = new ClientFrameParser(1000).push(run.forwarded[0]!);
  t.match(frame, { fin: true, opcode: OPCODE.text });
  t.equal(frame!.payload.toString(), 'a *');
  t.same([...clientDataFrame(OPCODE.binary, Buffer.alloc(70_000)).subarray(0, 2)], [0x82, 0xff], '64-bit length, masked');
});

t.test('protocol violations close with 1002, oversize with 1009, before anything is forwarded', async (t) => {
  const cases: Array<[string, Buffer[], number]> = [
    ['unmasked client frame', [encode({ opcode: OPCODE.text, fin: true, payload: Buffer.from('x'), mask: false })], 1002],
    ['RSV1 without a negotiated extension', [encode({ opcode: OPCODE.text, fin: true, payload: Buffer.from('x'), rsv1: true })], 1002],
    ['continuation without a message', [encode({ opcode: OPCODE.continuation, fin: true, payload: Buffer.from('x') })], 1002],
    ['new message inside a fragmented one', [encode({ opcode: OPCODE.text, fin: false, payload: Buffer.from('x') }), encode({ opcode: OPCODE.text, fin: true, payload: Buffer.from('y') })], 1002],
    ['reserved opcode', [encode({ opcode: 0x3, fin: true, payload: Buffer.from('x') })], 1002],
    ['fragmented control frame', [encode({ opcode: OPCODE.ping, fin: false, payload: Buffer.from('x') })], 1002],
    ['frame over the limit', [encode({ opcode: OPCODE.binary, fin: true, payload: Buffer.alloc(2000) })], 1009],
    ['fragments over the limit together', [encode({ opcode: OPCODE.binary, fin: false, payload: Buffer.alloc(600) }), encode({ opcode: OPCODE.continuation, fin: true, payload: Buffer.alloc(600) })], 1009],
  ];
  for (const [name, frames, code] of cases) {
    const run = runGate(frames, () => ({ action: 'forward' }), 1000);
    t.equal(run.closed?.code, code, name);
    t.same(run.forwarded, [], `${name}: nothing forwarded`);
  }
  // A frame header announcing a huge length is refused from its header alone.
  const huge = Buffer.from([0x82, 0xff, 0, 0, 0, 1, 0, 0, 0, 0, 1, 2, 3, 4]);
  t.equal(runGate([huge], undefined, 1000).closed?.code, 1009);
});

t.test('the proxy close frame: unmasked, code first, reason cut to fit 125 bytes', async (t) => {
  const f = serverCloseFrame(1008, 'r'.repeat(300));
  t.equal(f[0], 0x88);
  t.ok(f[1]! <= 125, 'control frame payload fits');
  t.equal(f.readUInt16BE(2), 1008);
});
