import type { ScanReport } from './types';

/** The machine-readable report; offsets are bytes into each input. */
export function renderJson(report: ScanReport): string {
  return JSON.stringify(
    {
      engine: report.engine,
      ...(report.fallbackReason ? { fallbackReason: report.fallbackReason } : {}),
      findings: report.findings.map((f) => ({
        detector: f.detector,
        category: f.category,
        severity: f.severity,
        confidence: f.confidence,
        start: f.start,
        end: f.end,
        line: f.line,
        column: f.column,
        masked: f.masked,
        ...(f.view ? { view: f.view } : {}),
        file: f.file,
      })),
      uninspected: report.uninspected,
    },
    null,
    2,
  );
}
