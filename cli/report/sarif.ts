// SARIF 2.1.0, the format code-scanning UIs ingest. One rule per detector
// that produced a result; the message carries masked evidence only.
import type { ScanReport } from './types';
import type { DetectorSpec, Severity } from '../../proxy/scan/types';

const LEVEL: Record<Severity, 'note' | 'warning' | 'error'> = {
  low: 'note',
  medium: 'warning',
  high: 'error',
  critical: 'error',
};

/** GitHub code scanning sorts alerts by this 0.0-10.0 score. */
const SECURITY_SEVERITY: Record<Severity, string> = {
  low: '3.0',
  medium: '5.5',
  high: '8.0',
  critical: '9.5',
};

export function renderSarif(report: ScanReport, detectors: readonly DetectorSpec[], toolVersion: string): string {
  const used = [...new Set(report.findings.map((f) => f.detector))].sort();
  const byId = new Map(detectors.map((d) => [d.id, d]));
  const rules = used.map((id) => {
    const d = byId.get(id);
    return {
      id,
      name: d?.name ?? id,
      shortDescription: { text: d?.name ?? id },
      fullDescription: { text: d?.description ?? d?.name ?? id },
      defaultConfiguration: { level: LEVEL[d?.severity ?? 'high'] },
      properties: {
        category: d?.category ?? 'custom',
        'security-severity': SECURITY_SEVERITY[d?.severity ?? 'high'],
        tags: ['security', 'dlp', d?.category ?? 'custom'],
      },
    };
  });
  const ruleIndex = new Map(used.map((id, i) => [id, i]));
  const results = report.findings.map((f) => ({
    ruleId: f.detector,
    ruleIndex: ruleIndex.get(f.detector),
    level: LEVEL[f.severity],
    message: { text: `${f.detector} found: ${f.masked}${f.view ? ` (in ${f.view} view)` : ''}` },
    locations: [
      {
        physicalLocation: {
          artifactLocation: { uri: f.file === '-' ? 'stdin' : f.file.split('\\').join('/') },
          region: {
            startLine: f.line,
            startColumn: f.column,
            endLine: f.endLine,
            endColumn: f.endColumn,
            byteOffset: f.start,
            byteLength: f.end - f.start,
          },
        },
      },
    ],
    partialFingerprints: { 'kubedlp/v1': `${f.detector}:${f.masked}` },
  }));
  return JSON.stringify(
    {
      $schema: 'https://json.schemastore.org/sarif-2.1.0.json',
      version: '2.1.0',
      runs: [
        {
          tool: {
            driver: {
              name: 'kube-dlp',
              version: toolVersion,
              informationUri: 'https://github.com/kube-dlp/kube-dlp',
              rules,
            },
          },
          results,
          columnKind: 'utf16CodeUnits',
        },
      ],
    },
    null,
    2,
  );
}
