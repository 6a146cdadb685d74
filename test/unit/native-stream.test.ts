// Vectorscan streams on libhs's stream mode must give exactly the findings
// the overlapped block scans (carry streams) give, whatever the chunking,
// and must fail closed where libhs stops: a stream mode that loses matches
// at chunk boundaries is detected at load and replaced by carry streams.
import t from 'tap';
import fc from 'fast-check';
import { createScanner, ScanOverflowError, StreamClosedError, type Scanner } from '../../proxy/scan';
import { DEFAULT_DETECTORS } from '../../proxy/scan/detectors';
import { NativeScanStream, historyBytes, type EndResolver } from '../../proxy/scan/engines/native-stream';
import { streamSelfTestFailure } from '../../proxy/native/self-test';
import { loadNativeBinding, type MatchTriplets, type NativeBinding, type NativeScratch, type NativeStream } from '../../proxy/native';
import { generateCorpus } from '../../bench/corpus';
import { findingKey, streamedKeys } from './stream-cuts';

const native = loadNativeBinding();

/** A stream-mode library that reports the sample's match only when no cut falls inside it. */
function fakeStreamBinding(losesSplitMatches: boolean): NativeBinding {
  const db = {
    allocScratch: () => ({}),
    openStream: () => {
      let text = '';
      let writes = 0;
      let reported = false;
      const cuts: number[] = [];
      const report = (): MatchTriplets => {
        const end = text.indexOf('.io') + 3;
        if (end < 3 || reported) return new Float64Array(0);
        reported = true;
        const atSign = text.indexOf('@');
        if (losesSplitMatches && writes > 1 && cuts.some((c) => c > atSign && c < end)) return new Float64Array(0);
        return new Float64Array([0, 0, end]);
      };
      return {
        scan: (b: Uint8Array) => {
          writes++;
          cuts.push(text.length);
          text += Buffer.from(b).toString('latin1');
          return report();
        },
        close: () => new Float64Array(0),
      };
    },
  };
  return { compile: () => db, version: () => 'fake 1.0' } as unknown as NativeBinding;
}

t.test('stream self-test: a library that loses matches split across writes is named, a sound one passes', async (t) => {
  t.equal(streamSelfTestFailure(fakeStreamBinding(false)), undefined);
  t.match(streamSelfTestFailure(fakeStreamBinding(true)), /stream mode misses a match split across writes at \d+ of \d+ cut points/);
  if (native.ok) t.equal(streamSelfTestFailure(native.binding), undefined, 'the installed libhs passes');
});

t.test('a stream libhs stopped at the match cap fails closed, now and on every later write', async (t) => {
  const capped = Object.assign(new Float64Array(0), { overflow: true as const });
  const stream = { scan: () => capped, close: () => new Float64Array(0), reset: () => new Float64Array(0), closed: false };
  const resolver: EndResolver = { widths: [10], resolveEnd: () => undefined };
  const s = new NativeScanStream(resolver, stream as NativeStream, {} as NativeScratch, 5, historyBytes(10));
  t.throws(() => s.write(Buffer.from('abc')), ScanOverflowError);
  t.throws(() => s.write(Buffer.from('def')), ScanOverflowError, 'later bytes are not silently skipped');
  t.equal(s.bytes, 0);
});

if (!native.ok) {
  t.fail(`Vectorscan addon not loaded: ${native.reason}`);
} else {
  const everything = { enable: DEFAULT_DETECTORS.map((d) => d.id) };
  const nativeScanner = createScanner({ ...everything, engine: 'vectorscan' });
  const carryScanner = createScanner({ ...everything, engine: 'vectorscan', streamMode: 'carry' });
  const key = findingKey;

  function streamScan(s: Scanner, data: Buffer, cuts: number[]): string[] {
    const { keys, bytes } = streamedKeys(s, data, cuts);
    t.equal(bytes, data.length);
    return keys;
  }

  t.test('the default scanner streams natively; carry streams stay available', async (t) => {
    t.equal(nativeScanner.engineInfo().streams, 'native');
    t.equal(carryScanner.engineInfo().streams, 'carry');
    const info = nativeScanner.engineInfo();
    t.ok(info.streamStateBytes! > nativeScanner.maxMatchWidth, 'stream state counts libhs state and the tail');
    t.ok(info.streamStateBytes! < 64 * 1024, `stream state ${info.streamStateBytes} bytes is bounded by the detector set`);
  });

  t.test('native and carry streams agree on every chunking of a corpus with planted secrets', async (t) => {
    const { data } = generateCorpus(96 * 1024, nativeScanner.detectors);
    const oneShot = nativeScanner.scan(data).map(key).sort();
    t.ok(oneShot.length > 5, `the corpus holds findings (${oneShot.length})`);
    fc.assert(
      fc.property(fc.array(fc.integer({ min: 0, max: data.length }), { maxLength: 40 }), (raw) => {
        const cuts = [...new Set(raw)].sort((a, b) => a - b);
        const got = streamScan(nativeScanner, data, cuts);
        const carry = streamScan(carryScanner, data, cuts);
        if (got.join('\n') !== carry.join('\n')) throw new Error(`streams disagree at cuts ${cuts.join(',')}`);
        // A cut inside a value may add a partial span (decided before the rest
        // arrived); it must never lose or shift what the one-shot scan finds.
        const missing = oneShot.filter((k) => !got.includes(k));
        if (missing.length > 0) throw new Error(`lost ${missing.join(', ')} at cuts ${cuts.join(',')}`);
      }),
      { seed: 1515, numRuns: 60 },
    );
  });

  t.test('small chunks: one byte, then odd sizes, give the one-shot findings', async (t) => {
    const data = Buffer.from('card=4111 1111 1111 1111; key=AKIAIOSFODNN7EXAMPLE; iban GB82WEST12345698765432; mail jane.doe@acme-corp.io end', 'latin1');
    const expected = nativeScanner.scan(data).map(key).sort();
    t.ok(expected.length >= 3);
    t.same(streamScan(nativeScanner, data, [...Array(data.length).keys()].slice(1)), expected, 'one byte per write');
    t.same(streamScan(nativeScanner, data, [7, 8, 31, 90]), expected, 'uneven writes');
  });

  t.test('a stream cannot be written after end(), and end() twice is refused', async (t) => {
    const st = nativeScanner.openStream();
    st.write(Buffer.from('nothing here'));
    t.same(st.end(), []);
    t.throws(() => st.write(Buffer.from('x')), StreamClosedError);
    t.throws(() => st.end(), StreamClosedError);
  });
}
