// The report as one self-contained HTML page: summary table, inline SVG
// charts drawn here (no scripts, no external assets), per-namespace details.
import type { ComplianceReport, NamespaceReport } from './build-report';
import { barChart, escapeXml as esc, formatNumber, lineChart } from './svg-chart';

const DECISION_COLUMNS = ['blocked', 'blocked_late', 'redacted', 'denied_destination', 'denied_cross_tenant', 'uninspected', 'allowed', 'error'];

export function renderHtml(r: ComplianceReport): string {
  const summaryRows = r.namespaces
    .map((n) => {
      const cells = DECISION_COLUMNS.map((d) => `<td class="num">${formatNumber(n.decisions[d] ?? 0)}</td>`).join('');
      return `<tr><th scope="row">${esc(n.namespace)}</th><td class="num">${formatNumber(n.requests)}</td>${cells}<td class="num">${coverageCell(n)}</td><td class="num">${n.profileChanges}</td></tr>`;
    })
    .join('\n');
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>kube-dlp compliance report</title>
<style>
body{font-family:Helvetica,Arial,sans-serif;margin:24px;color:#222}
h1{font-size:22px;margin-bottom:4px} h2{font-size:18px;margin-top:32px;border-bottom:1px solid #ccc;page-break-before:always} h3{font-size:14px}
table{border-collapse:collapse;margin:8px 0;font-size:12px} th,td{border:1px solid #ccc;padding:3px 6px;text-align:left} td.num{text-align:right}
.meta{color:#555;font-size:12px} .note{color:#8a6d3b;font-size:12px} figure{margin:8px 0;page-break-inside:avoid}
</style></head><body>
<h1>kube-dlp compliance report</h1>
<p class="meta">Window ${esc(r.window.start)} to ${esc(r.window.end)} (since ${esc(r.since)}), from Prometheus at ${esc(r.prometheus)}. Aggregates only: no matched values, paths or destinations are recorded in the metrics.</p>
<h3>Summary</h3>
<table id="summary"><thead><tr><th>namespace</th><th>requests</th>${DECISION_COLUMNS.map((d) => `<th>${d}</th>`).join('')}<th>pods missing sidecar (max)</th><th>profile changes</th></tr></thead>
<tbody>
${summaryRows || '<tr><td colspan="12">no kube-dlp sidecar reported in this window</td></tr>'}
</tbody></table>
${r.namespaces.map((n) => namespaceSection(n, r.stepSeconds)).join('\n')}
</body></html>
`;
}

function coverageCell(n: NamespaceReport): string {
  return n.coverage.podsMissingSidecarMax === null ? 'n/a' : formatNumber(n.coverage.podsMissingSidecarMax);
}

function namespaceSection(n: NamespaceReport, step: number): string {
  const unit = `per ${Math.max(step, 60)}s`;
  const findingsTable = n.findings.length
    ? `<table class="findings"><thead><tr><th>detector</th><th>category</th><th>action</th><th>findings</th></tr></thead><tbody>${n.findings
        .map((f) => `<tr><td>${esc(f.detector)}</td><td>${esc(f.category)}</td><td>${esc(f.action)}</td><td class="num">${formatNumber(f.count)}</td></tr>`)
        .join('')}</tbody></table>`
    : '<p>No findings in this window.</p>';
  const categoryBars = Object.entries(n.byCategory).flatMap(([category, actions]) =>
    Object.entries(actions).map(([action, count]) => ({ label: `${category} ${action}`, value: count })),
  );
  const notes: string[] = [];
  if (n.counterResets > 0) notes.push(`${n.counterResets} counter reset(s) in the window (restarted sidecars): totals may undercount.`);
  if (n.reloadFailures > 0) notes.push(`${n.reloadFailures} profile reload(s) failed; sidecars kept their previous profile.`);
  return `<section class="namespace" data-namespace="${esc(n.namespace)}">
<h2>Namespace ${esc(n.namespace)}</h2>
<table class="totals"><tbody>
<tr><th>requests</th><td class="num">${formatNumber(n.requests)}</td></tr>
<tr><th>blocked</th><td class="num">${formatNumber((n.decisions.blocked ?? 0) + (n.decisions.blocked_late ?? 0))}</td></tr>
<tr><th>redacted</th><td class="num">${formatNumber(n.decisions.redacted ?? 0)}</td></tr>
<tr><th>denied destinations</th><td class="num">${formatNumber((n.decisions.denied_destination ?? 0) + (n.decisions.denied_cross_tenant ?? 0))}</td></tr>
<tr><th>uninspectable egress</th><td class="num">${formatNumber(n.decisions.uninspected ?? 0)}</td></tr>
<tr><th>sidecars reporting</th><td class="num">${formatNumber(n.coverage.sidecarsReporting)}</td></tr>
<tr><th>pods missing the sidecar (max / now)</th><td class="num">${coverageCell(n)} / ${n.coverage.podsMissingSidecarNow === null ? 'n/a' : formatNumber(n.coverage.podsMissingSidecarNow)}</td></tr>
<tr><th>profile versions (changes)</th><td>${n.profiles.map((p) => `${esc(p.profile)}@${esc(p.version)}`).join(', ') || 'none'} (${n.profileChanges})</td></tr>
</tbody></table>
${notes.map((t) => `<p class="note">${esc(t)}</p>`).join('')}
<figure class="chart">${lineChart({ title: 'Blocked and redacted findings over time, by detector', series: n.enforcedOverTime, unit })}</figure>
<figure class="chart">${lineChart({ title: 'Blocked, redacted, denied and uninspected requests over time', series: n.decisionsOverTime, unit })}</figure>
<figure class="chart">${barChart({ title: 'Findings by category and action', bars: categoryBars })}</figure>
<h3>Findings by detector</h3>
${findingsTable}
</section>`;
}
