// Per-detector action overrides (spec.detectors.overrides). The engine bakes
// per-severity actions in at compile time but has no per-detector knob, so
// the override is applied to the findings the scanner returns. A finding's
// action is all the proxy reads to decide, so this is the one place needed.
import type { Action, Finding, Scanner, ScanStream } from '../scan';

export function withActionOverrides(scanner: Scanner, overrides: ReadonlyMap<string, Action>): Scanner {
  if (overrides.size === 0) return scanner;
  const apply = (findings: Finding[]): Finding[] =>
    findings.map((f) => {
      const action = overrides.get(f.detector);
      return action === undefined || action === f.action ? f : { ...f, action };
    });
  const detectors = Object.freeze(
    scanner.detectors.map((d) => {
      const action = overrides.get(d.id);
      return action === undefined ? d : { ...d, action };
    }),
  );
  return Object.freeze({
    engine: scanner.engine,
    fallbackReason: scanner.fallbackReason,
    maxMatchWidth: scanner.maxMatchWidth,
    detectors,
    engineInfo: () => scanner.engineInfo(),
    exportDatabases: () => scanner.exportDatabases?.(),
    scan: (data: Buffer) => apply(scanner.scan(data)),
    openStream: (): ScanStream => {
      const inner = scanner.openStream();
      return {
        write: (chunk: Buffer) => apply(inner.write(chunk)),
        end: () => apply(inner.end()),
        get bytes() {
          return inner.bytes;
        },
      };
    },
    redact: (data: Buffer, findings: readonly Finding[], mask?: string) => scanner.redact(data, findings, mask),
  });
}
