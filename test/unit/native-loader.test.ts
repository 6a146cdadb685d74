// Loading the addon: the reasons given when it is missing or broken (these
// run whether or not the addon is built, since they are what users see on
// machines without libvectorscan-dev).
import t from 'tap';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import {
  ADDON_FILE,
  NATIVE_ERROR_CODES,
  NativeUnavailableError,
  compileDatabase,
  defaultAddonCandidates,
  loadNativeBinding,
  loadNativeBindingFrom,
  type NativeBinding,
} from '../../proxy/native';

t.test('a missing addon names the files looked for and how to get it', async (t) => {
  const candidates = ['/nonexistent/build/Release/kube_dlp_hs.node', '/nonexistent/build/Debug/kube_dlp_hs.node'];
  const result = loadNativeBindingFrom(candidates);
  t.equal(result.ok, false);
  if (result.ok) return;
  for (const candidate of candidates) t.match(result.reason, candidate);
  t.match(result.reason, /apt-get install libvectorscan-dev pkg-config g\+\+ make/);
  t.match(result.reason, /RE2/);
});

t.test('a file that is not a loadable addon reports the loader error', async (t) => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'kdlp-loader-'));
  t.teardown(() => fs.rmSync(dir, { recursive: true }));
  const bogus = path.join(dir, ADDON_FILE);
  fs.writeFileSync(bogus, 'not an ELF file');
  const result = loadNativeBindingFrom(['/nonexistent/' + ADDON_FILE, bogus]);
  t.equal(result.ok, false);
  if (result.ok) return;
  t.match(result.reason, `failed to load ${bogus}`);
  t.match(result.reason, /RE2/);
});

t.test('candidates cover Release then Debug, beside the sources', async (t) => {
  const candidates = defaultAddonCandidates();
  const nativeDir = path.resolve(__dirname, '..', '..', 'proxy', 'native');
  t.equal(candidates[0], path.join(nativeDir, 'build', 'Release', ADDON_FILE));
  t.equal(candidates[1], path.join(nativeDir, 'build', 'Debug', ADDON_FILE));
});

t.test('loadNativeBinding is cached', async (t) => {
  t.equal(loadNativeBinding(), loadNativeBinding());
});

t.test('compileDatabase without an addon throws NativeUnavailableError', async (t) => {
  const result = loadNativeBinding();
  if (result.ok) {
    // Simulate absence by handing over a binding-less call path: only
    // reachable when the addon is missing, so check the error type directly.
    const err = new NativeUnavailableError('x');
    t.equal(err.code, NATIVE_ERROR_CODES.UNAVAILABLE);
    t.match(err.message, /unavailable: x/);
  } else {
    t.throws(() => compileDatabase([{ expression: 'a', flags: 0, id: 1 }], 'block'), {
      code: NATIVE_ERROR_CODES.UNAVAILABLE,
    });
  }
});

t.test('compileDatabase maps a native compile error through any binding', async (t) => {
  // A stand-in binding: checks the mapping logic of compileDatabase itself.
  const fake = {
    compile() {
      throw Object.assign(new Error('bad thing'), { code: 'KDLP_HS_COMPILE', expressionIndex: 1 });
    },
  } as unknown as NativeBinding;
  t.throws(
    () => compileDatabase([{ expression: 'a', flags: 0, id: 70 }, { expression: 'b', flags: 0, id: 71 }], 'block', fake),
    { name: 'HsCompileError', expressionIndex: 1, patternId: 71, message: /pattern 1 \(id 71\): bad thing/ },
  );
  const other = {
    compile() {
      throw Object.assign(new Error('whole set'), { code: 'KDLP_HS_COMPILE', expressionIndex: -1 });
    },
  } as unknown as NativeBinding;
  t.throws(() => compileDatabase([{ expression: 'a', flags: 0, id: 70 }], 'block', other), {
    expressionIndex: -1,
    patternId: -1,
    message: /pattern set: whole set/,
  });
});
