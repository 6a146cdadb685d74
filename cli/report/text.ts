import type { ScanReport } from './types';

export function renderText(report: ScanReport): string {
  const lines: string[] = [];
  for (const f of report.findings) {
    const where = `${f.file}:${f.line}:${f.column}`;
    const via = f.view ? ` (in ${f.view})` : '';
    lines.push(`${where}  ${f.severity.padEnd(8)} ${f.detector}  ${f.masked}${via}`);
  }
  for (const u of report.uninspected) lines.push(`${u.file}  not fully inspected: ${u.reason}`);
  const n = report.findings.length;
  lines.push(`${n} finding${n === 1 ? '' : 's'} (engine: ${report.engine})`);
  return lines.join('\n');
}
