// Copying the plain bytes between escapes into a decoded buffer. Between
// dense escapes (JSON with a `\"` every few words) those stretches are a few
// bytes long, and Buffer#copy allocates a Uint8Array view per call: 2.8
// bytes of heap per body byte on such bodies (sampling heap profiler). A
// loop allocates nothing; long stretches still go through copy.

/** Stretches up to this long are copied by a loop. */
const SHORT_COPY = 64;

/** src[from, to) into dst at `at`. */
export function copyBytes(src: Buffer, from: number, to: number, dst: Buffer, at: number): void {
  if (to - from > SHORT_COPY) {
    src.copy(dst, at, from, to);
    return;
  }
  for (let i = from; i < to; i++) dst[at++] = src[i]!;
}
