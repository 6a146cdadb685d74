// Compile once, ship everywhere: a scanner's Vectorscan databases exported
// as one bundle must start another process's scanner without compiling,
// fit a ConfigMap, and be refused (with the reason, the scanner compiling
// instead) whenever anything about it does not match: damaged bytes,
// another detector set, another libhs, or databases that do not answer
// their detectors' own examples.
import t from 'tap';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createScanner, createScannerAsync } from '../../proxy/scan';
import { loadNativeBinding } from '../../proxy/native';

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
  const pci = createScanner({ enable: ['pci'] });
  const secrets = createScanner({ enable: ['secret'] });
  const sample = Buffer.from('pay 4111 1111 1111 1111 now');

  t.test('the default library bundle fits a ConfigMap and holds a block and a stream database per pattern group', async (t) => {
    const scanner = createScanner();
    const bundle = scanner.exportDatabases!()!;
    t.ok(bundle.length < CONFIGMAP_LIMIT / 2, `bundle is ${bundle.length} bytes, well under the 1 MiB ConfigMap limit`);
    const { header } = split(bundle);
    const groups = scanner.engineInfo().databases ?? 0;
    t.ok(groups > 1, `the default library is split into ${groups} groups`);
    const modes = (header.entries as { mode: string }[]).map((e) => e.mode);
    t.same(modes, [...Array<string>(groups).fill('block'), ...Array<string>(groups).fill('stream')]);
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

  t.test('createScannerAsync takes the bundle too', async (t) => {
    const s = await createScannerAsync({ enable: ['pci'], databases: pci.exportDatabases!()! });
    t.same(s.engineInfo().databaseBundle, { accepted: true });
  });

  t.test('a bundle that does not match is refused with the reason, and the scanner compiles instead', async (t) => {
    const good = pci.exportDatabases!()!;
    const { header, body } = split(good);
    const damaged = Buffer.from(good);
    damaged[damaged.length - 10] ^= 0xff;
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
