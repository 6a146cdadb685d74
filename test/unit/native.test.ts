// The Vectorscan addon through its typed front door: compile, block and
// stream scans, scratch handling, the match cap, argument checks and
// getOriginalDst. Skips (loudly) only when the addon is not built.
import t from 'tap';
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import * as v8 from 'node:v8';
import * as vm from 'node:vm';
import { Worker } from 'node:worker_threads';
import fc from 'fast-check';
import {
  HS_FLAGS,
  HsCompileError,
  NATIVE_ERROR_CODES,
  compileDatabase,
  defaultAddonCandidates,
  loadNativeBinding,
  type NativeBinding,
  type MatchTriplets,
} from '../../proxy/native';
import { listen } from '../../proxy/http/listen';

const loaded = loadNativeBinding();
if (!loaded.ok) {
  const banner = '!'.repeat(78);
  console.error(`${banner}\nSKIPPING native addon tests: ${loaded.reason}\n${banner}`);
  t.plan(0, `native addon not built: ${loaded.reason}`);
} else {
  run(loaded.binding);
}

/** Triplets as [id, from, to] tuples, for readable assertions. */
function triplets(m: MatchTriplets): number[][] {
  const out: number[][] = [];
  for (let i = 0; i < m.length; i += 3) out.push([m[i], m[i + 1], m[i + 2]]);
  return out;
}

function run(hs: NativeBinding): void {
  t.test('version and platform', async (t) => {
    t.match(hs.version(), /^\d+\.\d+\.\d+/);
    t.equal(hs.platformValid(), true);
  });

  t.test('multi-pattern block scan reports ids and end offsets', async (t) => {
    const db = compileDatabase(
      [
        { expression: 'AKIA[0-9A-Z]{4}', flags: 0, id: 7 },
        { expression: 'ghp_', flags: 0, id: 3 },
        { expression: 'password', flags: HS_FLAGS.CASELESS, id: 12 },
      ],
      'block',
    );
    const scratch = db.allocScratch();
    const input = Buffer.from('x AKIAABCD y ghp_ PassWord ghp_');
    const m = db.scanBlock(input, scratch);
    t.ok(m instanceof Float64Array);
    t.equal(m.overflow, undefined);
    const sorted = triplets(m).sort((a, b) => a[2] - b[2] || a[0] - b[0]);
    // Without SOM_LEFTMOST the start is reported as 0.
    t.same(sorted, [
      [7, 0, 10],
      [3, 0, 17],
      [12, 0, 26],
      [3, 0, 31],
    ]);
    t.same(triplets(db.scanBlock(Buffer.from('nothing to see'), scratch)), []);
    t.same(triplets(db.scanBlock(Buffer.alloc(0), scratch)), []);
    t.match(db.info(), /BLOCK/);
    t.ok(db.size() > 0);
    t.equal(db.streamSize(), 0);
  });

  t.test('releaseFreeMemory returns freed heap without touching live databases', async (t) => {
    t.type(hs.releaseFreeMemory, 'function', 'the rebuilt addon exports it');
    const live = compileDatabase([{ expression: 'AKIA[0-9A-Z]{16}', flags: 0, id: 1 }], 'block');
    const scratch = live.allocScratch();
    const streamDb = compileDatabase([{ expression: 'tok_[a-z]{4}', flags: 0, id: 2 }], 'stream');
    const stream = streamDb.openStream();
    const streamScratch = streamDb.allocScratch();
    t.same(triplets(stream.scan(Buffer.from('x tok_'), streamScratch)), []);
    // Garbage to free: a large compile whose database is dropped at once.
    compileDatabase(
      Array.from({ length: 200 }, (_, i) => ({ expression: `k${i}_[a-z0-9]{8,40}x`, flags: HS_FLAGS.CASELESS, id: i })),
      'block',
    );
    t.type(hs.releaseFreeMemory!(), 'boolean');
    t.same(triplets(live.scanBlock(Buffer.from('id AKIAABCDEFGHIJKLMNOP end'), scratch)), [[1, 0, 23]]);
    t.same(triplets(stream.scan(Buffer.from('abcd!'), streamScratch)), [[2, 0, 10]], 'an open stream keeps its state');
  });

  t.test('compactJsHeap collects what nothing reaches and gives its pages back', async (t) => {
    t.type(hs.compactJsHeap, 'function', 'the rebuilt addon exports it');
    let garbage: object[] | undefined = Array.from({ length: 300_000 }, (_, i) => ({ i, name: `item-${i}` }));
    const collected = new WeakRef(garbage);
    const before = v8.getHeapStatistics();
    garbage = undefined;
    // A WeakRef keeps its target until the job that made it ends.
    await new Promise((r) => setImmediate(r));
    hs.compactJsHeap!();
    const after = v8.getHeapStatistics();
    t.equal(collected.deref(), undefined, 'the dropped graph was collected');
    const mib = (bytes: number) => Math.round(bytes / 2 ** 20);
    t.ok(after.used_heap_size < before.used_heap_size - 8 * 2 ** 20, `used heap ${mib(before.used_heap_size)} -> ${mib(after.used_heap_size)} MiB`);
    t.ok(after.total_heap_size < before.total_heap_size - 4 * 2 ** 20, `heap pages ${mib(before.total_heap_size)} -> ${mib(after.total_heap_size)} MiB`);
  });

    t.test('SOM_LEFTMOST reports start offsets', async (t) => {
    const db = compileDatabase([{ expression: 'tok_[a-z]{3,5}', flags: HS_FLAGS.SOM_LEFTMOST, id: 1 }], 'block');
    const m = db.scanBlock(Buffer.from('..tok_abc..'), db.allocScratch());
    t.same(triplets(m), [[1, 2, 9]]);

    const sdb = compileDatabase([{ expression: 'tok_[a-z]{3}', flags: HS_FLAGS.SOM_LEFTMOST, id: 2 }], 'stream');
    const scratch = sdb.allocScratch();
    const stream = sdb.openStream();
    t.same(triplets(stream.scan(Buffer.from('0123to'), scratch)), []);
    t.same(triplets(stream.scan(Buffer.from('k_xyz!'), scratch)), [[2, 4, 11]]);
    t.same(triplets(stream.close(scratch)), []);
  });

  t.test('compile errors name the offending pattern', async (t) => {
    const patterns = [
      { expression: 'fine', flags: 0, id: 40 },
      { expression: '(a)\\1', flags: 0, id: 41 },
      { expression: 'also fine', flags: 0, id: 42 },
    ];
    let caught: unknown;
    try {
      compileDatabase(patterns, 'block');
    } catch (err) {
      caught = err;
    }
    t.ok(caught instanceof HsCompileError, 'throws HsCompileError');
    const e = caught as HsCompileError;
    t.equal(e.code, 'KDLP_HS_COMPILE');
    t.equal(e.expressionIndex, 1);
    t.equal(e.patternId, 41);
    t.match(e.message, /pattern 1 \(id 41\).*[Bb]ack-?reference/);
    // The raw binding carries the same facts.
    t.throws(() => hs.compile(['ok', '(a)\\1'], [0, 0], [1, 2], 'stream'), {
      code: 'KDLP_HS_COMPILE',
      expressionIndex: 1,
    });
    // Bad flag bits are also reported per pattern.
    t.throws(() => compileDatabase([{ expression: 'x', flags: 0 }, { expression: 'y', flags: 1 << 20 }].map((p, i) => ({ ...p, id: 9 + i })), 'block'), {
      code: 'KDLP_HS_COMPILE',
      patternId: 10,
    });
  });

  t.test('compileDatabase validates its input before the addon sees it', async (t) => {
    t.throws(() => compileDatabase([], 'block'), TypeError);
    t.throws(() => compileDatabase([{ expression: 'a', flags: 0, id: 1 }], 'vectored' as 'block'), /mode/);
    t.throws(() => compileDatabase([{ expression: 'a', flags: -1, id: 1 }], 'block'), /patterns\[0\]\.flags/);
    t.throws(() => compileDatabase([{ expression: 'a', flags: 0, id: 1.5 }], 'block'), /patterns\[0\]\.id/);
    t.throws(() => compileDatabase([{ expression: '', flags: 0, id: 1 }], 'block'), /patterns\[0\]\.expression/);
  });

  t.test('expressionInfo reports widths', async (t) => {
    t.same(hs.expressionInfo('a{2,5}b', 0), {
      minWidth: 3,
      maxWidth: 6,
      unorderedMatches: false,
      matchesAtEod: false,
      matchesOnlyAtEod: false,
    });
    const unbounded = hs.expressionInfo('ab+', 0);
    t.equal(unbounded.minWidth, 2);
    t.equal(unbounded.maxWidth, -1);
    t.equal(hs.expressionInfo('abc$', 0).matchesOnlyAtEod, true);
    t.equal(hs.expressionInfo('[a-z]{4}\\b', 0).matchesAtEod, true);
    t.throws(() => hs.expressionInfo('(unclosed', 0), { code: 'KDLP_HS_COMPILE', expressionIndex: -1 });
  });

  t.test('streams find matches split across chunks, with absolute offsets', async (t) => {
    const db = compileDatabase(
      [
        { expression: 'SECRET', flags: 0, id: 5 },
        { expression: 'token[0-9]{2}\\b', flags: 0, id: 6 },
      ],
      'stream',
    );
    t.match(db.info(), /STREAM/);
    t.ok(db.streamSize() > 0);
    const scratch = db.allocScratch();

    const two = db.openStream();
    t.same(triplets(two.scan(Buffer.from('0123SEC'), scratch)), []);
    t.same(triplets(two.scan(Buffer.from('RET--'), scratch)), [[5, 0, 10]]);
    t.same(triplets(two.close(scratch)), []);

    const three = db.openStream();
    t.same(triplets(three.scan(Buffer.from('xxxxxxxxxxS'), scratch)), []);
    t.same(triplets(three.scan(Buffer.from('ECR'), scratch)), []);
    t.same(triplets(three.scan(Buffer.from('ET'), scratch)), [[5, 0, 16]]);
    // `\b` after the last byte is only decidable at end of data.
    t.same(triplets(three.scan(Buffer.from(' token42'), scratch)), []);
    t.equal(three.closed, false);
    t.same(triplets(three.close(scratch)), [[6, 0, 24]]);
    t.equal(three.closed, true);

    t.throws(() => three.close(scratch), { code: NATIVE_ERROR_CODES.STREAM_CLOSED, message: /closed stream/ });
    t.throws(() => three.scan(Buffer.from('x'), scratch), { code: NATIVE_ERROR_CODES.STREAM_CLOSED });
    t.throws(() => three.reset(scratch), { code: NATIVE_ERROR_CODES.STREAM_CLOSED });
  });

  t.test('stream reset reports end-of-data matches and restarts at offset 0', async (t) => {
    const db = compileDatabase([{ expression: 'end\\b', flags: 0, id: 1 }], 'stream');
    const scratch = db.allocScratch();
    const stream = db.openStream();
    t.same(triplets(stream.scan(Buffer.from('the end'), scratch)), []);
    t.same(triplets(stream.reset(scratch)), [[1, 0, 7]]);
    t.same(triplets(stream.scan(Buffer.from('end.'), scratch)), [[1, 0, 3]]);
    t.same(triplets(stream.close(scratch)), []);
  });

  t.test('a subarray is read in place: only the view', async (t) => {
    const db = compileDatabase([{ expression: 'key', flags: 0, id: 1 }], 'block');
    const scratch = db.allocScratch();
    const backing = Buffer.from('key|..key..|key');
    const view = backing.subarray(4, 11);
    t.equal(view.byteOffset - backing.byteOffset, 4);
    t.same(triplets(db.scanBlock(view, scratch)), [[1, 0, 5]]);
    // A plain Uint8Array view over a shared ArrayBuffer, too.
    const plain = new Uint8Array(backing.buffer, backing.byteOffset + 1, 10);
    t.same(triplets(db.scanBlock(plain, scratch)), [[1, 0, 8]]);

    const sdb = compileDatabase([{ expression: 'key', flags: 0, id: 2 }], 'stream');
    const sscratch = sdb.allocScratch();
    const stream = sdb.openStream();
    t.same(triplets(stream.scan(backing.subarray(1, 6), sscratch)), []);
    t.same(triplets(stream.scan(backing.subarray(6, 9), sscratch)), [[2, 0, 8]]);
    stream.close(sscratch);
  });

  t.test('scratch clone works independently', async (t) => {
    const db = compileDatabase([{ expression: 'abc', flags: 0, id: 4 }], 'block');
    const scratch = db.allocScratch();
    const copy = scratch.clone();
    t.ok(scratch.size() > 0);
    t.equal(copy.size(), scratch.size());
    t.same(triplets(db.scanBlock(Buffer.from('abcabc'), copy)), [
      [4, 0, 3],
      [4, 0, 6],
    ]);
    t.same(triplets(db.scanBlock(Buffer.from('xabc'), scratch)), [[4, 0, 4]]);
  });

  t.test('a scratch that is too small for the database is refused', async (t) => {
    const small = compileDatabase([{ expression: 'a', flags: 0, id: 1 }], 'block');
    const big = compileDatabase(
      Array.from({ length: 40 }, (_, i) => ({ expression: `w${i}[a-z]{2,30}x\\d{4,9}`, flags: 0, id: i })),
      'block',
    );
    const smallScratch = small.allocScratch();
    t.ok(smallScratch.size() < big.allocScratch().size());
    t.throws(() => big.scanBlock(Buffer.from('w1abx12345'), smallScratch), {
      code: NATIVE_ERROR_CODES.HS,
      hsErrorName: 'HS_INVALID',
    });
  });

  t.test('a block database refuses to open a stream', async (t) => {
    const block = compileDatabase([{ expression: 'a', flags: 0, id: 1 }], 'block');
    t.throws(() => block.openStream(), { code: NATIVE_ERROR_CODES.HS, message: /stream-mode/ });
  });

  t.test('a stream database scans a whole buffer with the matches a block database gives', async (t) => {
    const patterns = [
      { expression: 'SECRET', flags: 0, id: 5 },
      // Both only decidable at end of data: a stream reports them at close.
      { expression: 'token[0-9]{2}\\b', flags: 0, id: 6 },
      { expression: 'tail$', flags: 0, id: 7 },
      { expression: '[0-9]{4}', flags: 0, id: 8 },
    ];
    const block = compileDatabase(patterns, 'block');
    const stream = compileDatabase(patterns, 'stream');
    const blockScratch = block.allocScratch();
    const streamScratch = stream.allocScratch();
    const both = (input: Buffer, max?: number) => ({
      block: block.scanBlock(input, blockScratch, max),
      stream: stream.scanBlock(input, streamScratch, max),
    });
    const ends = both(Buffer.from('x SECRET 12345 token42 tail'));
    t.same(triplets(ends.stream), triplets(ends.block));
    t.same(
      triplets(ends.stream).map((m) => m[0]).sort(),
      [5, 6, 7, 8, 8],
      'end-of-data matches included',
    );
    t.same(triplets(both(Buffer.alloc(0)).stream), []);
    const capped = both(Buffer.from('1234567 SECRET'), 2);
    t.equal(capped.stream.overflow, true, 'the match cap marks the result incomplete');
    t.same(triplets(capped.stream), triplets(capped.block));
    // The shared stream scratch still works after a capped scan.
    t.same(triplets(stream.scanBlock(Buffer.from('token07'), streamScratch)), [[6, 0, 7]]);
    fc.assert(
      fc.property(fc.array(fc.constantFrom('SECRET', 'token', '42', '0', ' ', 'tail', 'x', '\n'), { maxLength: 40 }), (parts) => {
        const r = both(Buffer.from(parts.join('')));
        return JSON.stringify(triplets(r.stream)) === JSON.stringify(triplets(r.block));
      }),
    );
  });

  t.test('empty complete results are one shared frozen array', async (t) => {
    const db = compileDatabase([{ expression: 'zz', flags: 0, id: 1 }], 'block');
    const scratch = db.allocScratch();
    const a = db.scanBlock(Buffer.from('abc'), scratch);
    const b = db.scanBlock(Buffer.from('def'), scratch);
    t.equal(a.length, 0);
    t.equal(a, b);
    t.ok(Object.isFrozen(a));
    t.throws(() => {
      'use strict';
      (a as { overflow?: boolean }).overflow = true;
    }, TypeError);
    // Non-empty results are fresh arrays owned by the caller.
    const c = db.scanBlock(Buffer.from('zz'), scratch);
    const d = db.scanBlock(Buffer.from('zz'), scratch);
    t.not(c, d);
    t.notOk(Object.isFrozen(c));
  });

  t.test('the match cap stops the scan and marks the result', async (t) => {
    const db = compileDatabase([{ expression: 'x', flags: 0, id: 9 }], 'block');
    const scratch = db.allocScratch();
    const input = Buffer.from('xxxxx');
    const capped = db.scanBlock(input, scratch, 3);
    t.equal(capped.overflow, true);
    t.same(triplets(capped), [
      [9, 0, 1],
      [9, 0, 2],
      [9, 0, 3],
    ]);
    const exact = db.scanBlock(input, scratch, 5);
    t.equal(exact.length, 15);
    t.equal(exact.overflow, undefined);
    const none = db.scanBlock(input, scratch, 0);
    t.equal(none.length, 0);
    t.equal(none.overflow, true, 'an empty but incomplete result is flagged, not the shared empty array');
    t.equal(db.scanBlock(Buffer.from('y'), scratch).overflow, undefined);
    t.equal(db.scanBlock(input, scratch).length, 15);
  });

  t.test('a capped stream refuses more data until reset', async (t) => {
    const db = compileDatabase([{ expression: 'x', flags: 0, id: 9 }], 'stream');
    const scratch = db.allocScratch();
    const stream = db.openStream();
    const first = stream.scan(Buffer.from('xxxx'), scratch, 2);
    t.equal(first.overflow, true);
    t.equal(first.length, 6);
    t.throws(() => stream.scan(Buffer.from('x'), scratch), { code: NATIVE_ERROR_CODES.STREAM_TERMINATED });
    const afterReset = stream.reset(scratch);
    t.equal(afterReset.overflow, true, 'reset of a stopped stream reports its results as incomplete');
    const fresh = stream.scan(Buffer.from('ax'), scratch);
    t.same(triplets(fresh), [[9, 0, 2]]);
    t.equal(fresh.overflow, undefined);

    const other = db.openStream();
    other.scan(Buffer.from('xx'), scratch, 1);
    t.equal(other.close(scratch).overflow, true, 'close of a stopped stream is marked incomplete');
  });

  t.test('bad arguments throw TypeErrors naming the argument', async (t) => {
    const db = compileDatabase([{ expression: 'a', flags: 0, id: 1 }], 'block');
    const scratch = db.allocScratch();
    const sdb = compileDatabase([{ expression: 'a', flags: 0, id: 1 }], 'stream');
    const stream = sdb.openStream();
    const any = (v: unknown) => v as never;

    t.throws(() => db.scanBlock(any('text'), scratch), { name: 'TypeError', message: /buffer/ });
    t.throws(() => db.scanBlock(any(new Float64Array(2)), scratch), { name: 'TypeError', message: /buffer/ });
    t.throws(() => db.scanBlock(Buffer.from('a'), any({})), { name: 'TypeError', message: /scratch/ });
    t.throws(() => db.scanBlock(Buffer.from('a'), any(db)), { name: 'TypeError', message: /scratch/ });
    t.throws(() => db.scanBlock(Buffer.from('a'), any(stream)), { name: 'TypeError', message: /scratch/ });
    t.throws(() => db.scanBlock(Buffer.from('a'), scratch, -1), { name: 'TypeError', message: /maxMatches/ });
    t.throws(() => db.scanBlock(Buffer.from('a'), scratch, 1.5), { name: 'TypeError', message: /maxMatches/ });
    t.throws(() => db.scanBlock(Buffer.from('a'), scratch, any('3')), { name: 'TypeError', message: /maxMatches/ });
    t.throws(() => stream.scan(any(null), sdb.allocScratch()), { name: 'TypeError', message: /buffer/ });
    t.throws(() => stream.close(any(undefined)), { name: 'TypeError', message: /scratch/ });

    t.throws(() => hs.compile(any('a'), [0], [1], 'block'), { name: 'TypeError', message: /expressions/ });
    t.throws(() => hs.compile(['a'], any(0), [1], 'block'), { name: 'TypeError', message: /flags/ });
    t.throws(() => hs.compile(['a'], [0], [1, 2], 'block'), { name: 'TypeError', message: /same length/ });
    t.throws(() => hs.compile([any(1)], [0], [1], 'block'), { name: 'TypeError', message: /expressions\[0\]/ });
    t.throws(() => hs.compile(['a'], [0], [any(-3)], 'block'), { name: 'TypeError', message: /ids\[0\]/ });
    t.throws(() => hs.compile(['a\u0000b'], [0], [1], 'block'), { name: 'TypeError', message: /NUL/ });
    t.throws(() => hs.compile(['a'], [0], [1], any('vectored')), { name: 'TypeError', message: /mode/ });
    t.throws(() => hs.expressionInfo(any(5), 0), { name: 'TypeError', message: /expression/ });
    t.throws(() => hs.expressionInfo('a', any(null)), { name: 'TypeError', message: /flags/ });
    t.throws(() => hs.getOriginalDst(any('3')), { name: 'TypeError', message: /fd/ });
    t.throws(() => hs.getOriginalDst(-1), { name: 'TypeError', message: /fd/ });

    // Wrapped objects come only from the addon.
    const DatabaseClass = (db as unknown as { constructor: new () => unknown }).constructor;
    t.throws(() => new DatabaseClass(), { name: 'TypeError', message: /compile\(\)/ });
    // Methods refuse a receiver of another class.
    t.throws(() => db.scanBlock.call(any(scratch), Buffer.from('a'), scratch), TypeError);
  });

  t.test('an open stream keeps its database alive through garbage collection', async (t) => {
    v8.setFlagsFromString('--expose-gc');
    const gc = vm.runInNewContext('gc') as () => void;
    const open = () => {
      const db = compileDatabase([{ expression: 'needle', flags: 0, id: 3 }], 'stream');
      return { stream: db.openStream(), scratch: db.allocScratch() };
    };
    const { stream, scratch } = open();
    // Unclosed streams and unreferenced databases are released by finalizers.
    for (let i = 0; i < 50; i++) open();
    for (let i = 0; i < 3; i++) {
      gc();
      await new Promise((resolve) => setImmediate(resolve));
    }
    t.same(triplets(stream.scan(Buffer.from('a needle'), scratch)), [[3, 0, 8]]);
    stream.close(scratch);
  });

  t.test('the addon works in worker threads, each with its own state', async (t) => {
    const addon = defaultAddonCandidates().find((f) => fs.existsSync(f))!;
    // Worker code is plain JS: it loads the addon directly and leaves a
    // database, scratch and open stream behind for env teardown to free.
    const source = `
      const { parentPort, workerData } = require('node:worker_threads');
      const hs = require(workerData.addon);
      const db = hs.compile(['needle'], [0], [8], 'block');
      const m = db.scanBlock(Buffer.from('a needle'), db.allocScratch());
      const sdb = hs.compile(['x'], [0], [1], 'stream');
      globalThis.leftOpen = sdb.openStream();
      parentPort.postMessage(Array.from(m));
    `;
    const runWorker = () =>
      new Promise<number[]>((resolve, reject) => {
        const worker = new Worker(source, { eval: true, workerData: { addon } });
        worker.once('message', (m: number[]) => {
          resolve(m);
          void worker.terminate();
        });
        worker.once('error', reject);
      });
    const results = await Promise.all([runWorker(), runWorker()]);
    t.same(results, [
      [8, 0, 8],
      [8, 0, 8],
    ]);
    const db = compileDatabase([{ expression: 'needle', flags: 0, id: 2 }], 'block');
    t.same(triplets(db.scanBlock(Buffer.from('needle'), db.allocScratch())), [[2, 0, 6]]);
  });

  t.test('getOriginalDst on a socket that was not redirected fails cleanly', async (t) => {
    const server = net.createServer((socket) => socket.end());
    await listen(server, { host: '127.0.0.1', port: 0 });
    const port = (server.address() as net.AddressInfo).port;
    const client = net.connect(port, '127.0.0.1');
    await new Promise<void>((resolve, reject) => client.once('connect', resolve).once('error', reject));
    try {
      const fd = (client as unknown as { _handle: { fd: number } })._handle.fd;
      t.ok(fd > 2, 'a real socket fd');
      let result: unknown;
      try {
        result = hs.getOriginalDst(fd);
      } catch (err) {
        const e = err as { code?: string; errno?: number; syscall?: string; message: string };
        t.equal(e.code, NATIVE_ERROR_CODES.ORIGINAL_DST);
        t.type(e.errno, 'number');
        t.match(e.syscall, /SO_ORIGINAL_DST/);
        t.match(e.message, new RegExp(`fd ${fd}.*SO_ORIGINAL_DST`));
      }
      if (result !== undefined) {
        // With conntrack active, an unredirected connection's "original"
        // destination is simply where it went.
        t.same(result, { address: '127.0.0.1', port, family: 4 });
      }
    } finally {
      client.destroy();
      await new Promise((resolve) => server.close(resolve));
    }
  });

  t.test('getOriginalDst on a non-socket fd reports the errno', async (t) => {
    const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'kdlp-native-')), 'plain');
    fs.writeFileSync(file, 'x');
    const fd = fs.openSync(file, 'r');
    try {
      t.throws(() => hs.getOriginalDst(fd), {
        code: NATIVE_ERROR_CODES.ORIGINAL_DST,
        errno: os.constants.errno.ENOTSOCK,
        syscall: 'getsockname',
      });
    } finally {
      fs.closeSync(fd);
      fs.rmSync(path.dirname(file), { recursive: true });
    }
  });
}
