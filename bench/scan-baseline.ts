// bench:scan --baseline=DIR: block-mode MB/s of this build against another
// built checkout (dist/ and its addon), measured in one process, round by
// round in alternating order, on the same corpus and chunks. A noisy shared
// machine slows both sides of a round alike, so the median of the per-round
// ratios is the honest regression figure (#14: within 10%).
import Module from 'node:module';
import * as path from 'node:path';
import type { Scanner } from '../proxy/scan';
import { median } from './median';

/**
 * Loads the other checkout's scanner. Its `re2` must be this process's
 * copy: node aborts when a second re2.node (another path) registers the
 * same cleanup hook. RE2 is the same package in both trees.
 */
function loadBaseline(dir: string): { createScanner(c: object): Scanner } {
  const resolver = Module as unknown as { _resolveFilename(request: string, ...rest: unknown[]): string };
  const original = resolver._resolveFilename;
  const ownRe2 = require.resolve('re2');
  resolver._resolveFilename = (request: string, ...rest: unknown[]) => (request === 're2' ? ownRe2 : original.call(Module, request, ...rest));
  try {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    return require(path.resolve(dir, 'dist/proxy/scan')) as { createScanner(c: object): Scanner };
  } finally {
    resolver._resolveFilename = original;
  }
}

const CHUNK = 16 * 1024;
const ROUNDS = Number(process.env.KDLP_BENCH_AB_ROUNDS ?? 9);

function mbPerCpuSecond(scanner: Scanner, data: Buffer): number {
  const before = process.cpuUsage();
  let n = 0;
  for (let off = 0; off < data.length; off += CHUNK) n += scanner.scan(data.subarray(off, off + CHUNK)).length;
  const d = process.cpuUsage(before);
  if (n < 0) console.log(n);
  return data.length / 1e6 / ((d.user + d.system) / 1e6);
}

export function interleavedBaseline(dir: string, data: Buffer, current: Scanner): { baselineMbs: number; currentMbs: number; ratio: number } {
  const old = loadBaseline(dir);
  const baseline = old.createScanner({ engine: 'vectorscan' });
  const ratios: number[] = [];
  const a: number[] = [];
  const b: number[] = [];
  mbPerCpuSecond(current, data.subarray(0, 4 * CHUNK * 64));
  mbPerCpuSecond(baseline, data.subarray(0, 4 * CHUNK * 64));
  for (let round = 0; round < ROUNDS; round++) {
    const first = round % 2 === 0;
    const x = first ? mbPerCpuSecond(current, data) : 0;
    const y = mbPerCpuSecond(baseline, data);
    const xx = first ? x : mbPerCpuSecond(current, data);
    a.push(xx);
    b.push(y);
    ratios.push(xx / y);
  }
  const result = {
    baselineMbs: Math.round(median(b) * 10) / 10,
    currentMbs: Math.round(median(a) * 10) / 10,
    ratio: Math.round(median(ratios) * 100) / 100,
  };
  console.log(
    `\nA/B block 16 KiB vs ${dir} (${baseline.detectors.length} detectors there, ${current.detectors.length} here), ${ROUNDS} interleaved rounds: ` +
      `this ${result.currentMbs} MB/s, baseline ${result.baselineMbs} MB/s, median ratio ${result.ratio} ` +
      `(rounds: ${ratios.map((r) => r.toFixed(2)).join(' ')})`,
  );
  return result;
}
