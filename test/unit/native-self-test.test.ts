// The loader refuses a libhs whose answers depend on buffer alignment (the
// Vectorscan 5.4.9 AVX-512 defect), so kube-dlp never blocks or passes a
// body depending on where the allocator put it.
import t from 'tap';
import { selfTestFailure } from '../../proxy/native/self-test';
import { loadNativeBinding, type NativeBinding } from '../../proxy/native';

function fakeBinding(findAt: (address: number) => boolean): NativeBinding {
  const db = {
    allocScratch: () => ({}),
    scanBlock: (view: Uint8Array) => {
      const end = Buffer.from(view).toString('latin1').indexOf('.io') + 3;
      return findAt(view.byteOffset) ? new Float64Array([0, 0, end]) : new Float64Array(0);
    },
  };
  return { compile: () => db, version: () => 'fake 1.0' } as unknown as NativeBinding;
}

t.test('a library that answers the same at every alignment passes', async (t) => {
  t.equal(selfTestFailure(fakeBinding(() => true)), undefined);
});

t.test('alignment-dependent answers are refused with the reason and the fix', async (t) => {
  const reason = selfTestFailure(fakeBinding((offset) => offset % 64 < 40));
  t.match(reason, /missed at \d+ of 64 buffer alignments/);
  t.match(reason, /libhyperscan-dev/);
});

t.test('the installed library passes its self-test', async (t) => {
  const loaded = loadNativeBinding();
  t.ok(loaded.ok, loaded.ok ? 'addon loaded' : loaded.reason);
});
