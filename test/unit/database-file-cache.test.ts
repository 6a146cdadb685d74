// The on-disk cache of compiled Vectorscan databases: a file is used only
// when everything about it checks out, anything else is a miss that makes
// the caller compile; saving never fails the caller. End to end, a sidecar
// process started with KUBE_DLP_SCANNER_CACHE_DIR writes the database once
// and the next process scans the same with it, even after the file is
// damaged (it compiles again and rewrites it).
import t from 'tap';
import { execFileSync } from 'node:child_process';
import { chmodSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { compileDatabase, loadNativeBinding, NATIVE_ERROR_CODES, type NativeBinding } from '../../proxy/native';
import { CACHE_DIR_ENV, DatabaseFileCache } from '../../proxy/scan/engines/database-file-cache';
import { createScanner } from '../../proxy/scan';

const PATTERNS = [
  { expression: 'AKIA[0-9A-Z]{16}', flags: 0, id: 0 },
  { expression: 'ghp_[A-Za-z0-9]{36}', flags: 0, id: 1 },
];
const INPUT = Buffer.from(`a AKIAABCDEFGHIJKLMNOP b ghp_${'x'.repeat(36)} c`);

function scanWith(db: ReturnType<typeof compileDatabase>): number[] {
  return [...db.scanBlock(INPUT, db.allocScratch())];
}

const loaded = loadNativeBinding();
if (!loaded.ok) {
  console.error(`SKIPPING database file cache tests: ${loaded.reason}`);
  t.plan(0, `native addon not built: ${loaded.reason}`);
} else if (typeof loaded.binding.deserialize !== 'function') {
  t.fail('the addon lacks deserialize(): rebuild it (npx node-gyp rebuild --directory proxy/native)');
} else {
  run(loaded.binding);
}

function run(hs: NativeBinding): void {
  const dir = mkdtempSync(join(tmpdir(), 'kdlp-hsdb-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));

  t.test('serialize / deserialize round-trips a database', async (t) => {
    const db = compileDatabase(PATTERNS, 'block');
    const copy = hs.deserialize!(db.serialize!());
    t.equal(copy.info(), db.info());
    t.same(scanWith(copy), scanWith(db));
    t.ok(scanWith(db).length > 0, 'the input has matches');
    const stream = hs.deserialize!(compileDatabase(PATTERNS, 'stream').serialize!());
    t.ok(stream.streamSize() > 0, 'a stream database comes back in stream mode');
  });

  t.test('deserialize refuses garbage with a clear error', async (t) => {
    t.throws(() => hs.deserialize!(Buffer.from('not a database')), { code: NATIVE_ERROR_CODES.HS });
    t.throws(() => hs.deserialize!('x' as unknown as Uint8Array), TypeError);
  });

  t.test('save then load, keyed by pattern set', async (t) => {
    const cache = new DatabaseFileCache(join(dir, 'a'), hs);
    t.equal(cache.load('set-1'), undefined, 'empty cache misses');
    const db = compileDatabase(PATTERNS, 'block');
    cache.save('set-1', db);
    const hit = cache.load('set-1');
    t.ok(hit, 'hit after save');
    t.same(scanWith(hit!), scanWith(db));
    t.equal(cache.load('set-2'), undefined, 'another pattern set misses');
  });

  t.test('a damaged, truncated or foreign file is a miss', async (t) => {
    const sub = join(dir, 'b');
    const cache = new DatabaseFileCache(sub, hs);
    cache.save('set-1', compileDatabase(PATTERNS, 'block'));
    const [name] = readdirSync(sub);
    const file = join(sub, name);
    const good = readFileSync(file);
    const nl = good.indexOf(0x0a);

    const flipped = Buffer.from(good);
    flipped[good.length - 10] ^= 0xff;
    writeFileSync(file, flipped);
    t.equal(cache.load('set-1'), undefined, 'a flipped byte fails the digest');

    writeFileSync(file, good.subarray(0, good.length - 100));
    t.equal(cache.load('set-1'), undefined, 'truncated');

    const header = JSON.parse(good.subarray(0, nl).toString());
    writeFileSync(file, Buffer.concat([Buffer.from(`${JSON.stringify({ ...header, libhs: '0.0.1 other' })}\n`), good.subarray(nl + 1)]));
    t.equal(cache.load('set-1'), undefined, 'another libhs version');

    writeFileSync(file, Buffer.concat([Buffer.from(`${JSON.stringify({ ...header, patternSet: 'set-2' })}\n`), good.subarray(nl + 1)]));
    t.equal(cache.load('set-1'), undefined, 'a header for another pattern set');

    writeFileSync(file, 'no header at all');
    t.equal(cache.load('set-1'), undefined, 'not a cache file');

    writeFileSync(file, good);
    t.ok(cache.load('set-1'), 'the intact file loads again');
  });

  t.test('saving to an unwritable directory does not throw', { skip: process.getuid?.() === 0 ? 'root can write anywhere' : false }, async (t) => {
    const ro = join(dir, 'ro');
    rmSync(ro, { recursive: true, force: true });
    execFileSync('mkdir', [ro]);
    chmodSync(ro, 0o500);
    const cache = new DatabaseFileCache(join(ro, 'sub'), hs);
    t.doesNotThrow(() => cache.save('set-1', compileDatabase(PATTERNS, 'block')));
    t.equal(cache.load('set-1'), undefined);
  });

  t.test('saving to a path that is a file does not throw', async (t) => {
    const notDir = join(dir, 'plain-file');
    writeFileSync(notDir, 'x');
    const cache = new DatabaseFileCache(notDir, hs);
    t.doesNotThrow(() => cache.save('set-1', compileDatabase(PATTERNS, 'block')));
    t.equal(cache.load('set-1'), undefined);
  });

  t.test('fromEnv: only when the variable names a directory', async (t) => {
    t.equal(DatabaseFileCache.fromEnv(hs, {}), undefined);
    t.equal(DatabaseFileCache.fromEnv(hs, { [CACHE_DIR_ENV]: '' }), undefined);
    t.ok(DatabaseFileCache.fromEnv(hs, { [CACHE_DIR_ENV]: dir }));
  });

  t.test('end to end: processes share the compiled database through the directory', async (t) => {
    const cacheDir = join(dir, 'e2e');
    // A fresh process each time, so the in-process cache cannot answer.
    const script = `
      const { createScanner } = require(${JSON.stringify(join(__dirname, '..', '..', 'proxy', 'scan'))});
      const s = createScanner({ enable: ['pci', 'secret'] });
      const found = s.scan(Buffer.from('pay 4111 1111 1111 1111 key AKIAZ3MHQW4XKNB7PLQE'));
      process.stdout.write(JSON.stringify(found.map((f) => [f.detector, f.start, f.end])));
    `;
    // One database per pattern group, in each mode (pattern-partition.ts).
    const groups = createScanner({ enable: ['pci', 'secret'] }).engineInfo().databases ?? 0;
    const runOnce = () =>
      execFileSync(process.execPath, [...process.execArgv, '-e', script], { env: { ...process.env, [CACHE_DIR_ENV]: cacheDir }, encoding: 'utf8' });
    const first = runOnce();
    const files = readdirSync(cacheDir).sort();
    // One stream database per pattern group serves whole-buffer scans and native streams.
    t.ok(groups >= 1);
    t.equal(files.length, groups, 'the first process wrote its stream databases');
    t.ok(JSON.parse(first).length >= 2, `findings: ${first}`);
    const written = files.map((f) => statSync(join(cacheDir, f)).ino);
    t.equal(runOnce(), first, 'the second process (from the files) finds the same');
    t.same(files.map((f) => statSync(join(cacheDir, f)).ino), written, 'a hit does not rewrite a file (a miss would rename a new one in)');
    t.same(readdirSync(cacheDir).sort(), files, 'and adds none');
    const file = join(cacheDir, files[0]);
    const bytes = readFileSync(file);
    bytes[bytes.length - 1] ^= 0xff;
    writeFileSync(file, bytes);
    t.equal(runOnce(), first, 'a damaged file: compiled again, same findings');
    t.not(readFileSync(file).compare(bytes), 0, 'and the file was rewritten');
  });
}
