// A known-answer test run once when the addon loads. Debian 12's Vectorscan
// 5.4.9 on AVX-512 machines finds or misses the same match depending on the
// input buffer's address (seen here: an email address missed at 13 of 64
// alignments, in block and stream mode; Intel's Hyperscan 5.4.0 finds it at
// all 64). A scanner whose answer depends on where the allocator put the
// body cannot be trusted with blocking, so such a library is refused and
// kube-dlp runs on RE2, saying why.
import { createHash } from 'node:crypto';
import type { HsMode, NativeBinding, NativeDatabase } from './binding';

const PATTERN = String.raw`@[A-Za-z0-9](?:[A-Za-z0-9.-]{0,251}[A-Za-z0-9])?\.[A-Za-z]{2,24}\b`;
const LINE = 'lorem ipsum dolor {"k": 1}\n';
const SAMPLE = `${LINE}${LINE}${LINE} {"email":"jane.doe@acme-corp.io"} tail text\n`;
const ALIGNMENTS = 64;

/**
 * Names the self-test's databases in a database bundle (database-bundle.ts):
 * derived from the pattern, so a changed test never runs on an old database.
 */
export const SELF_TEST_PATTERN_SET = createHash('sha256').update(`kube-dlp self-test\0${PATTERN}`).digest('hex');

const compiled = new WeakMap<NativeBinding, Partial<Record<HsMode, NativeDatabase>>>();

/**
 * The self-test's pattern compiled for `mode`, once per process (databases
 * are immutable). Compiling is what the test costs (over 100 ms, and the
 * compiler's code paged in), so an operator ships these in the bundle, and
 * a sidecar started from one never compiles.
 */
export function compileSelfTestDatabase(binding: NativeBinding, mode: HsMode): NativeDatabase {
  let byMode = compiled.get(binding);
  if (!byMode) compiled.set(binding, (byMode = {}));
  return (byMode[mode] ??= binding.compile([PATTERN], [0], [0], mode));
}

/**
 * Undefined when the library answers the same at every alignment; otherwise
 * why not. `db`: the pattern's block database from a bundle; without one,
 * the test compiles it.
 */
export function selfTestFailure(binding: NativeBinding, db = compileSelfTestDatabase(binding, 'block')): string | undefined {
  const sample = Buffer.from(SAMPLE, 'latin1');
  const expectedEnd = SAMPLE.indexOf('.io') + 3;
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

/**
 * Stream mode gets its own known answer: the same match, with the stream
 * cut at every byte of the sample into two writes, must be reported once,
 * at the same end offset. Vectorscan 5.4.9 missed matches when a cut fell
 * inside them; a library that fails here still serves block scans, and
 * streams fall back to overlapped block scans (carry-stream.ts).
 */
export function streamSelfTestFailure(binding: NativeBinding, db = compileSelfTestDatabase(binding, 'stream')): string | undefined {
  const sample = Buffer.from(SAMPLE, 'latin1');
  const expectedEnd = SAMPLE.indexOf('.io') + 3;
  const scratch = db.allocScratch();
  const missed: number[] = [];
  for (let cut = 0; cut <= sample.length; cut++) {
    const stream = db.openStream();
    const first = stream.scan(sample.subarray(0, cut), scratch);
    const second = stream.scan(sample.subarray(cut), scratch);
    const last = stream.close(scratch);
    const ends = [first, second, last].flatMap((m) => (m.length === 3 ? [m[2]] : m.length === 0 ? [] : [-1, -1]));
    if (ends.length !== 1 || ends[0] !== expectedEnd) missed.push(cut);
  }
  if (missed.length === 0) return undefined;
  return `libhs ${binding.version()} stream mode misses a match split across writes at ${missed.length} of ${sample.length + 1} cut points`;
}

/**
 * A test run on a shipped database, trusted only when it passes: a database
 * that fails (damaged, or not the test's pattern) proves nothing about the
 * library, so the test is run again on one compiled here.
 */
export function testedWith(test: (db?: NativeDatabase) => string | undefined, shipped: NativeDatabase | undefined): string | undefined {
  if (shipped !== undefined && test(shipped) === undefined) return undefined;
  return test();
}
