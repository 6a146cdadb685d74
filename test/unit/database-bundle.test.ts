// Compile once, ship everywhere: a scanner's Vectorscan databases exported
// as one bundle must start another process's scanner without compiling,
// fit a ConfigMap, and be refused (with the reason, the scanner compiling
// instead) whenever anything about it does not match: damaged bytes,
// another detector set, another libhs, or databases that do not answer
// their detectors' own examples.
import t, { type Test } from 'tap';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createScanner, createScannerAsync } from '../../proxy/scan';
import { loadNativeBinding } from '../../proxy/native';
import { SELF_TEST_PATTERN_SET } from '../../proxy/native/self-test';
import { encodeBundle } from '../../proxy/scan/engines/database-bundle';

const native = loadNativeBinding();
const CONFIGMAP_LIMIT = 1024 * 1024;

function split(bundle: Buffer): { header: Record<string, unknown>; body: Buffer } {
  const nl = bundle.indexOf(0x0a);
  return { header: JSON.parse(bundle.subarray(0, nl).toString('utf8')) as Record<string, unknown>, body: bundle.subarray(nl + 1) };
}

function join2(header: Record<string, unknown>, body: Buffer): Buffer {
  return Buffer.concat([Buffer.from(`${JSON.stringify(header)}\n`), body]);
}

if (!native.ok) {
  t.fail(`Vectorscan addon not loaded: ${native.reason}`);
} else {
  const loaded = native;
  const pci = createScanner({ enable: ['pci'] });
  const secrets = createScanner({ enable: ['secret'] });
  const sample = Buffer.from('pay 4111 1111 1111 1111 now');

  t.test('the default library bundle fits a ConfigMap and holds one stream database per pattern group', async (t) => {
    const scanner = createScanner();
    const bundle = scanner.exportDatabases!()!;
    t.ok(bundle.length < CONFIGMAP_LIMIT / 2, `bundle is ${bundle.length} bytes, well under the 1 MiB ConfigMap limit`);
    const { header } = split(bundle);
    const groups = scanner.engineInfo().databases ?? 0;
    t.ok(groups > 1, `the default library is split into ${groups} groups`);
    const modes = (header.entries as { mode: string }[]).map((e) => e.mode);
    // Stream databases also scan whole buffers: no block database is shipped beside them.
    t.same(modes, Array<string>(groups).fill('stream'));
    const carry = createScanner({ streamMode: 'carry' }).exportDatabases!()!;
    t.same(
      (split(carry).header.entries as { mode: string }[]).map((e) => e.mode),
      Array<string>(groups).fill('block'),
      'carry streams scan block databases, and ship them',
    );
    t.equal(header.libhs, native.binding.version());
    t.equal(createScanner({ engine: 're2' }).exportDatabases!(), undefined, 'RE2 has nothing to ship');
  });

  t.test('a fresh process starts from the bundle and finds the same', async (t) => {
    const dir = mkdtempSync(join(tmpdir(), 'kdlp-bundle-'));
    const file = join(dir, 'pci.hsbundle');
    writeFileSync(file, pci.exportDatabases!()!);
    // A new process: its in-process cache is empty, so only the bundle can supply the databases.
    const script = `
      const { readFileSync } = require('node:fs');
      const { createScanner } = require(${JSON.stringify(join(__dirname, '..', '..', 'proxy', 'scan'))});
      const s = createScanner({ enable: ['pci'], databases: readFileSync(${JSON.stringify(file)}) });
      const st = s.openStream();
      const streamed = [...st.write(Buffer.from('pay 4111 1111 ')), ...st.write(Buffer.from('1111 1111 now')), ...st.end()];
      process.stdout.write(JSON.stringify({ info: s.engineInfo(), found: s.scan(Buffer.from(${JSON.stringify(sample.toString())})).map((f) => [f.detector, f.start, f.end]), streamed: streamed.map((f) => [f.detector, f.start, f.end]) }));
    `;
    const out = JSON.parse(execFileSync(process.execPath, [...process.execArgv, '-e', script], { encoding: 'utf8' })) as {
      info: { databaseBundle?: { accepted: boolean }; streams: string };
      found: unknown[];
      streamed: unknown[];
    };
    t.same(out.info.databaseBundle, { accepted: true });
    t.equal(out.info.streams, 'native');
    t.same(out.found, pci.scan(sample).map((f) => [f.detector, f.start, f.end]));
    t.same(out.streamed, out.found, 'the shipped stream database finds it across writes');
  });

  /**
   * A new process (empty caches) that counts every call into the compiler
   * (compile, compileAsync, expressionInfo) while it builds a pci scanner
   * from `bundle` and scans with it.
   */
  const startFrom = (t: Test, bundle: Buffer) => {
    const file = join(mkdtempSync(join(tmpdir(), 'kdlp-bundle-')), 'pci.hsbundle');
    writeFileSync(file, bundle);
    const native = JSON.stringify(join(__dirname, '..', '..', 'proxy', 'native'));
    const script = `
      const { existsSync, readFileSync } = require('node:fs');
      const addon = require(require(${native}).defaultAddonCandidates().find((f) => existsSync(f)));
      const calls = {};
      for (const name of ['compile', 'compileAsync', 'expressionInfo']) {
        const real = addon[name];
        addon[name] = (...args) => { calls[name] = (calls[name] ?? 0) + 1; return real(...args); };
      }
      const { createScanner } = require(${JSON.stringify(join(__dirname, '..', '..', 'proxy', 'scan'))});
      const s = createScanner({ enable: ['pci'], databases: readFileSync(${JSON.stringify(file)}) });
      const st = s.openStream();
      const streamed = [...st.write(Buffer.from('pay 4111 1111 ')), ...st.write(Buffer.from('1111 1111 now')), ...st.end()];
      process.stdout.write(JSON.stringify({ calls, info: s.engineInfo(), found: s.scan(Buffer.from(${JSON.stringify(sample.toString())})).length, streamed: streamed.length }));
    `;
    const out = JSON.parse(execFileSync(process.execPath, [...process.execArgv, '-e', script], { encoding: 'utf8' })) as {
      calls: Record<string, number>;
      info: { engine: string; databaseBundle?: { accepted: boolean }; streams: string };
      found: number;
      streamed: number;
    };
    t.equal(out.info.engine, 'vectorscan');
    t.same(out.info.databaseBundle, { accepted: true }, 'the bundle is used');
    t.equal(out.info.streams, 'native');
    t.equal(out.found, 1, 'finds the card');
    t.equal(out.streamed, 1, 'finds it across stream writes');
    return out.calls;
  };

  t.test('a process started from a bundle never runs the compiler: self-tests and widths come with it', async (t) => {
    const bundle = pci.exportDatabases!()!;
    const header = split(bundle).header as { selfTest?: { mode: string; patternSet: string }[]; widths?: { values: number[] } };
    t.same(header.selfTest?.map((e) => [e.mode, e.patternSet]), [['block', SELF_TEST_PATTERN_SET], ['stream', SELF_TEST_PATTERN_SET]]);
    t.equal(header.widths?.values.length, pci.engineInfo().patterns);
    t.same(startFrom(t, bundle), {}, 'no compile and no expressionInfo call');
  });

  t.test('what a bundle carries besides its databases is checked, and compiled here when it does not hold', async (t) => {
    const bundle = pci.exportDatabases!()!;
    const { header, body } = split(bundle);
    const entries = header.entries as { bytes: number }[];
    const selfTest = header.selfTest as { bytes: number }[];
    const widths = header.widths as { patterns: string; values: number[] };
    // Damaged self-test databases: each self-test compiles its own.
    const damaged = Buffer.from(body);
    const selfTestAt = entries.reduce((n, e) => n + e.bytes, 0);
    damaged[selfTestAt + 20] ^= 0xff;
    damaged[selfTestAt + selfTest[0]!.bytes + 20] ^= 0xff;
    t.same(startFrom(t, join2(header, damaged)), { compile: 2 }, 'damaged self-test databases: both self-tests compile');
    // A self-test database of another pattern passes nothing: the library is tested on one compiled here.
    const binding = loaded.binding;
    const otherPattern = encodeBundle(binding, [], {
      selfTest: (['block', 'stream'] as const).map((mode) => ({ mode, patternSet: SELF_TEST_PATTERN_SET, db: binding.compile(['@nothing'], [0], [0], mode) })),
    });
    const otherHeader = split(otherPattern).header;
    t.same(startFrom(t, join2({ ...header, selfTest: otherHeader.selfTest }, Buffer.concat([body.subarray(0, selfTestAt), split(otherPattern).body]))), { compile: 2 }, 'a self-test database that fails: the test compiles its own');
    const patterns = widths.values.length;
    t.same(startFrom(t, join2({ ...header, widths: { ...widths, patterns: 'f'.repeat(64) } }, body)), { expressionInfo: patterns }, 'widths of other pattern sources: asked again');
    t.same(startFrom(t, join2({ ...header, widths: { ...widths, values: widths.values.map(() => 0) } }, body)), { expressionInfo: patterns }, 'implausible widths: asked again');
    t.same(startFrom(t, join2({ ...header, widths: undefined, selfTest: undefined }, body.subarray(0, selfTestAt))), { compile: 2, expressionInfo: patterns }, 'an older bundle without them still serves its databases');
  });

  t.test('createScannerAsync takes the bundle too', async (t) => {
    const s = await createScannerAsync({ enable: ['pci'], databases: pci.exportDatabases!()! });
    t.same(s.engineInfo().databaseBundle, { accepted: true });
  });

  t.test('a bundle that does not match is refused with the reason, and the scanner compiles instead', async (t) => {
    const good = pci.exportDatabases!()!;
    const { header, body } = split(good);
    // A byte inside the first detector database's body.
    const damaged = Buffer.from(good);
    damaged[good.indexOf(0x0a) + 1 + (header.entries as { bytes: number }[])[0]!.bytes - 10] ^= 0xff;
    const otherLibhs = join2({ ...header, libhs: '9.9.9 2099-01-01' }, body);
    // Databases of the pci set under the headers of the secret set: only
    // the known-answer test can tell.
    // The two sets split into different numbers of groups: each pci entry
    // takes the digest of the secret set's database of the same mode.
    const secretHeader = split(secrets.exportDatabases!()!).header as { entries: { mode: string; patternSet: string }[] };
    const secretDigest = (mode: string) => secretHeader.entries.find((e) => e.mode === mode)!.patternSet;
    const forged = join2(
      { ...header, entries: (header.entries as { mode: string }[]).map((e) => ({ ...e, patternSet: secretDigest(e.mode) })) },
      body,
    );
    const cases: Array<[string, Buffer, string, object, RegExp]> = [
      ['damaged bytes', damaged, 'pci', { enable: ['pci'] }, /damaged/],
      ['another detector set', good, 'secret', { enable: ['secret'] }, /another detector set/],
      ['another libhs', otherLibhs, 'pci', { enable: ['pci'] }, /built for libhs 9\.9\.9/],
      ['wrong databases under a matching header', forged, 'secret', { enable: ['secret'] }, /known-answer test: no match of secret\./],
      ['not a bundle', Buffer.from('hello'), 'pci', { enable: ['pci'] }, /not a kube-dlp database bundle/],
    ];
    for (const [name, bytes, category, config, reason] of cases) {
      const s = createScanner({ ...config, databases: bytes });
      const outcome = s.engineInfo().databaseBundle;
      t.equal(outcome?.accepted, false, `${name}: refused`);
      t.match(outcome?.reason, reason, `${name}: says why`);
      const example = category === 'pci' ? sample : Buffer.from('key AKIAZ3MHQW4XKNB7PLQE end');
      t.ok(s.scan(example).length > 0, `${name}: the compiled scanner still finds`);
    }
  });
}
