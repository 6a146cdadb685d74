// Scanning a buffer as a stream cut at given offsets, with findings as
// sortable keys: how the engine tests compare streams with one-shot scans
// and with each other.
import type { Scanner } from '../../proxy/scan';
import type { Finding } from '../../proxy/scan/types';

/** Everything that must agree between two scans of the same bytes. */
export function findingKey(f: Finding): string {
  return `${f.detector}@${f.start}-${f.end}:${f.masked}:${f.confidence}`;
}

/** Findings of `data` written in pieces cut at `cuts` (ascending), then ended; sorted keys. */
export function streamedKeys(
  scanner: Scanner,
  data: Buffer,
  cuts: readonly number[],
  key: (f: Finding) => string = findingKey,
): { keys: string[]; bytes: number } {
  const stream = scanner.openStream();
  const out: Finding[] = [];
  let from = 0;
  for (const cut of [...cuts, data.length]) {
    out.push(...stream.write(data.subarray(from, cut)));
    from = cut;
  }
  out.push(...stream.end());
  return { keys: out.map(key).sort(), bytes: stream.bytes };
}
