// What an idle proxy hands back: V8's garbage, compacted, then the C heap's
// free pages. Start-up and a burst of traffic leave both behind (the profile
// document and the compiled-database bundle; parser buffers, TLS and match
// state), and a sidecar spends most of its life idle, so what stays resident
// then is what every pod pays. Measured on the sidecar started from a
// compiled database (Protect sample): the compaction alone takes idle RSS
// from about 79 to 76 MiB; bench:proxy reports the figures of its run.
import { loadNativeBinding } from '../native';

/** Returns whether any memory went back to the kernel. */
export type ReleaseUnusedMemory = () => boolean;

/** The release function, or undefined where the native addon is missing (no way to trim or to ask V8 to compact). */
export function unusedMemoryRelease(): ReleaseUnusedMemory | undefined {
  const native = loadNativeBinding();
  if (!native.ok) return undefined;
  const { binding } = native;
  if (!binding.releaseFreeMemory && !binding.compactJsHeap) return undefined;
  return () => {
    // V8 first: collecting frees the memory behind dead Buffers into the C
    // heap, which the trim then returns.
    binding.compactJsHeap?.();
    return binding.releaseFreeMemory?.() ?? false;
  };
}
