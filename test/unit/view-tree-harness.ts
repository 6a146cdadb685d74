// A streaming view tree over the card detector, with its findings and
// problems collected, and a feeder that writes a body in given chunk sizes:
// what the view-tree and normalize-view tests share.
import { createScanner } from '../../proxy/scan';
import { ScanMeter } from '../../proxy/inspect-pipeline/scan-support';
import { ViewTree } from '../../proxy/inspect-pipeline/views/view-tree';
import type { ContentCoding } from '../../proxy/scan/decode';
import type { ViewFinding } from '../../proxy/inspect-pipeline/views/view-node';
import type { Uninspectable } from '../../proxy/inspect-pipeline/verdict';

export const scanner = createScanner({ enable: ['pci.card-number'] });

export function tree(opts: { enabled: ReadonlySet<string>; codings?: ContentCoding[]; maxDepth?: number }) {
  const found: ViewFinding[] = [];
  const problems: Uninspectable[] = [];
  const meter = new ScanMeter();
  const views = new ViewTree({
    scanner,
    meter,
    maxDepth: opts.maxDepth ?? 3,
    tailBytes: Math.min(scanner.maxMatchWidth, 65536),
    limits: { maxOutputBytes: 64 << 20, maxRatio: 100, ratioGraceBytes: 1 << 20 },
    enabled: opts.enabled,
    undoCodings: opts.codings ?? [],
    form: false,
    found: (f) => found.push(f),
    problem: (p) => problems.push(p),
  });
  return { views, found, problems, meter };
}

/** Writes `body` in chunks of `sizes` (cycled), awaiting each write, then ends it. */
export async function feed(views: ViewTree, body: Buffer, sizes: number[], onStep?: () => void): Promise<void> {
  for (let at = 0, i = 0; at < body.length; i++) {
    const n = sizes[i % sizes.length];
    const work = views.write(body.subarray(at, at + n));
    if (work) await work;
    at += n;
    onStep?.();
  }
  const done = views.end();
  if (done) await done;
}
