// A known-answer test run once when the addon loads. Debian 12's Vectorscan
// 5.4.9 on AVX-512 machines finds or misses the same match depending on the
// input buffer's address (seen here: an email address missed at 13 of 64
// alignments, in block and stream mode; Intel's Hyperscan 5.4.0 finds it at
// all 64). A scanner whose answer depends on where the allocator put the
// body cannot be trusted with blocking, so such a library is refused and
// kube-dlp runs on RE2, saying why.
import type { NativeBinding } from './binding';

const PATTERN = String.raw`@[A-Za-z0-9](?:[A-Za-z0-9.-]{0,251}[A-Za-z0-9])?\.[A-Za-z]{2,24}\b`;
const LINE = 'lorem ipsum dolor {"k": 1}\n';
const SAMPLE = `${LINE}${LINE}${LINE} {"email":"jane.doe@acme-corp.io"} tail text\n`;
const ALIGNMENTS = 64;

/** Undefined when the library answers the same at every alignment; otherwise why not. */
export function selfTestFailure(binding: NativeBinding): string | undefined {
  const sample = Buffer.from(SAMPLE, 'latin1');
  const expectedEnd = SAMPLE.indexOf('.io') + 3;
  const db = binding.compile([PATTERN], [0], [0], 'block');
  const scratch = db.allocScratch();
  const arena = Buffer.alloc(sample.length + ALIGNMENTS);
  const missed: number[] = [];
  for (let align = 0; align < ALIGNMENTS; align++) {
    const view = arena.subarray(align, align + sample.length);
    sample.copy(view);
    const matches = db.scanBlock(view, scratch);
    if (matches.length !== 3 || matches[2] !== expectedEnd) missed.push(align);
  }
  if (missed.length === 0) return undefined;
  return (
    `libhs ${binding.version()} fails its self-test: a match is missed at ${missed.length} of ${ALIGNMENTS} buffer ` +
    `alignments (known defect of Vectorscan 5.4.9 on AVX-512 CPUs); install Intel's Hyperscan ` +
    `(apt-get install libhyperscan-dev) and rebuild the addon`
  );
}
