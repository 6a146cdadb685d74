// The Grafana dashboards (generated files up to date: generated-files.test.ts): well-formed JSON Grafana
// imports (schema, variables, datasources, layout), every metric a query reads
// exported by the code, every label value a query names part of the code's
// vocabulary, the audit-log panel filtering on fields the audit log writes.
// test/integration/prometheus-dashboards.test.ts runs every query against a
// real Prometheus scraping real sidecars.
import t from 'tap';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { DASHBOARDS } from '../../scripts/prometheus/dashboards';
import { committedDashboards, DASHBOARD_DIR, dashboardFileName, generatedFiles, repoRoot, SIDECAR_CONFIGMAP_DIR } from '../../scripts/prometheus/generate';
import { SCHEMA_VERSION, type Json } from '../../scripts/prometheus/grafana';
import { dashboardQueries, expandTemplate, kubedlpMetricNames, labelMatchers, panelsOf, parseLabelValues, variablesIn } from '../../scripts/prometheus/queries';
import { DECISIONS } from '../../proxy/outcome/decision';
import { AuditLog } from '../../proxy/audit/audit-log';
import { REQUEST_RESULTS } from '../../operator/webhook/metrics';
import { PROXY_CONTAINER } from '../../operator/inject/names';
import { exportedMetrics } from '../fixtures/prometheus/exported-metrics';

const ROOT = repoRoot(__dirname);
const GRAFANA_BUILTINS = ['__rate_interval', '__range', '__interval'];

const loadDashboards = (): Json[] => committedDashboards(ROOT);

function variables(d: Json): Json[] {
  return (d.templating as Json).list as Json[];
}

t.test('each dashboard is current Grafana JSON with a Prometheus datasource variable', async (t) => {
  const dashboards = loadDashboards();
  t.same(new Set(dashboards.map((d) => d.uid)).size, dashboards.length, 'unique uids');
  for (const d of dashboards) {
    t.ok((d.schemaVersion as number) >= 39, `${d.uid}: schemaVersion ${d.schemaVersion}`);
    t.equal(d.schemaVersion, SCHEMA_VERSION);
    t.equal(d.id, null, `${d.uid}: no instance id, so it imports anywhere`);
    const [first] = variables(d);
    t.match(first, { name: 'datasource', type: 'datasource', query: 'prometheus' }, `${d.uid}: the first variable picks the Prometheus datasource`);
    t.notMatch(JSON.stringify(d), /"uid":\s*"(?!\$\{(datasource|loki)\}|-- Grafana --|kube-dlp-)/, `${d.uid}: no hard-coded datasource uid`);
  }
});

t.test('the traffic dashboards filter by namespace, tenant and profile with label_values queries', async (t) => {
  const byUid = new Map(loadDashboards().map((d) => [d.uid as string, d]));
  const expected: Record<string, string[]> = {
    'kube-dlp-exfiltration': ['namespace', 'tenant', 'profile'],
    'kube-dlp-data-plane': ['namespace', 'profile', 'pod'],
  };
  for (const [uid, names] of Object.entries(expected)) {
    const vars = variables(byUid.get(uid)!);
    for (const name of names) {
      const v = vars.find((x) => x.name === name);
      t.match(v, { type: 'query', datasource: { type: 'prometheus', uid: '${datasource}' }, multi: true, includeAll: true, allValue: '.*' }, `${uid}: $${name}`);
      t.doesNotThrow(() => parseLabelValues(String(v?.query)), `${uid}: $${name} is a label_values() query`);
    }
  }
  const exfiltration = byUid.get('kube-dlp-exfiltration')!;
  t.match(
    variables(exfiltration).find((v) => v.name === 'loki'),
    { type: 'datasource', query: 'loki' },
    'an optional Loki datasource variable for the audit log panel',
  );
});

t.test('panels: described, wired to the dashboard datasource, unique ids, inside the grid, not overlapping', async (t) => {
  for (const d of loadDashboards()) {
    const panels = panelsOf(d);
    t.same(new Set(panels.map((p) => p.id)).size, panels.length, `${d.uid}: unique panel ids`);
    const titles = panels.filter((p) => p.type !== 'row').map((p) => p.title);
    t.same(new Set(titles).size, titles.length, `${d.uid}: unique panel titles (tests and docs name panels by title)`);
    for (const p of panels.filter((x) => x.type !== 'row')) {
      const where = `${d.uid} / ${p.title}`;
      t.ok(String(p.description ?? '').length > 20, `${where}: says what it answers`);
      const ds = p.datasource as Json;
      t.ok(ds.uid === '${datasource}' || (p.type === 'logs' && ds.uid === '${loki}'), `${where}: datasource ${JSON.stringify(ds)}`);
      for (const target of p.targets as Json[]) t.same(target.datasource, ds, `${where} ${target.refId}: target uses the panel datasource`);
      t.ok((p.targets as Json[]).length > 0, `${where}: has a query`);
    }
    // Collapsed rows keep their panels inside; their positions are relative to the opened row.
    const layers = [(d.panels as Json[]).map((p) => p.gridPos as Grid), ...(d.panels as Json[]).filter((p) => Array.isArray(p.panels)).map((r) => (r.panels as Json[]).map((p) => p.gridPos as Grid))];
    for (const grids of layers) {
      for (const g of grids) t.ok(g.x >= 0 && g.w > 0 && g.x + g.w <= 24 && g.h > 0, `${d.uid}: ${JSON.stringify(g)} inside the 24-column grid`);
      const overlaps = grids.flatMap((a, i) => grids.slice(i + 1).filter((b) => a.x < b.x + b.w && b.x < a.x + a.w && a.y < b.y + b.h && b.y < a.y + a.h).map((b) => [a, b]));
      t.same(overlaps, [], `${d.uid}: no overlapping panels`);
    }
  }
});

interface Grid {
  x: number;
  y: number;
  w: number;
  h: number;
}

t.test('queries use only variables their dashboard defines (or Grafana built-ins)', async (t) => {
  for (const d of loadDashboards()) {
    const defined = new Set([...variables(d).map((v) => String(v.name)), ...GRAFANA_BUILTINS]);
    const all = Object.fromEntries([...defined].map((n) => [n, 'x']));
    for (const q of dashboardQueries(d)) {
      t.same([...variablesIn(q.expr)].filter((v) => !defined.has(v)), [], `${d.uid} / ${q.panel} ${q.refId}`);
      t.doesNotThrow(() => expandTemplate(q.expr, all));
    }
    for (const v of variables(d).filter((x) => x.type === 'query')) {
      t.same([...variablesIn(String(v.query))].filter((n) => !defined.has(n)), [], `${d.uid} variable ${v.name}`);
    }
  }
});

t.test('every kube-dlp metric a dashboard reads is exported by the proxy or the operator', async (t) => {
  const exported = await exportedMetrics();
  const used = new Set<string>();
  for (const d of loadDashboards()) {
    const exprs = [...dashboardQueries(d).filter((q) => q.datasource === 'prometheus').map((q) => ({ where: `${d.uid} / ${q.panel} ${q.refId}`, expr: q.expr }))];
    exprs.push(...variables(d).filter((v) => v.type === 'query').map((v) => ({ where: `${d.uid} variable ${v.name}`, expr: String(v.query) })));
    for (const { where, expr } of exprs) {
      const names = kubedlpMetricNames(expr, exported);
      t.ok(names.length > 0, `${where}: reads a kube-dlp metric`);
      t.same(names.filter((n) => !exported.names.has(n)), [], `${where}: ${names.join(', ')}`);
      names.forEach((n) => used.add(n));
    }
  }
  t.ok(used.has('kubedlp_proxy_requests_total') && used.has('kubedlp_operator_reconciles_total') && used.has('kubedlp_webhook_requests_total'));
});

t.test('the metric-name check maps histogram series to their histogram, and nothing else', async (t) => {
  const exported = { names: new Set(['kubedlp_scan_duration_seconds', 'kubedlp_scan_bytes_total']), histograms: new Set(['kubedlp_scan_duration_seconds']) };
  t.same(kubedlpMetricNames('rate(kubedlp_scan_duration_seconds_bucket[1m]) + kubedlp_scan_bytes_total', exported), ['kubedlp_scan_bytes_total', 'kubedlp_scan_duration_seconds']);
  t.same(kubedlpMetricNames('kubedlp_scan_bytes_total_count', exported), ['kubedlp_scan_bytes_total_count'], 'a counter has no _count series: stays unknown');
  t.same(kubedlpMetricNames('kubedlp_renamed_seconds_bucket', exported), ['kubedlp_renamed_seconds_bucket']);
});

t.test('label values the queries name are values the code produces', async (t) => {
  const vocabulary: Record<string, readonly string[]> = { decision: DECISIONS, result: REQUEST_RESULTS };
  let checked = 0;
  for (const d of loadDashboards()) {
    for (const q of dashboardQueries(d)) {
      for (const m of labelMatchers(q.expr)) {
        const known = vocabulary[m.label];
        if (!known || m.value.includes('$')) continue;
        checked++;
        t.same(m.value.split('|').filter((v) => !known.includes(v)), [], `${d.uid} / ${q.panel}: ${m.label}${m.op}"${m.value}"`);
      }
    }
  }
  t.ok(checked >= 10, `${checked} decision/result matchers checked`);
});

t.test('the audit log panel parses the audit lines as JSON and filters on fields they have', async (t) => {
  const exfiltration = loadDashboards().find((d) => d.uid === 'kube-dlp-exfiltration')!;
  const logs = dashboardQueries(exfiltration).filter((q) => q.datasource === 'loki');
  t.equal(logs.length, 1);
  const expr = logs[0].expr;
  t.match(expr, /^\$audit_selector \| json \| /, 'stream selector variable, then the JSON parser');
  const selector = variables(exfiltration).find((v) => v.name === 'audit_selector');
  t.equal(selector?.query, `{container="${PROXY_CONTAINER}"}`, 'defaults to the container the webhook injects');

  const lines: string[] = [];
  const audit = new AuditLog({
    sink: new Writable({ write: (c, _e, cb) => (lines.push(String(c)), cb()) }) as never,
    identity: { pod: 'checkout-a', namespace: 'payments', tenant: 'acme' },
  });
  audit.record({
    requestId: 'r1',
    decision: 'blocked',
    action: 'block',
    method: 'POST',
    destination: 'api.example.com:443',
    path: '/v1/export',
    detectors: ['pci.card-number'],
    evidence: [{ detector: 'pci.card-number', masked: '4111********1111', location: 'body', action: 'block' }],
    bytes: 42,
    reason: 'card number',
    profile: 'protect-payments',
    profileVersion: 'v1',
    mode: 'Protect',
  });
  audit.close();
  const line = JSON.parse(lines.join('').trim().split('\n')[0]) as Record<string, unknown>;
  const filters = labelMatchers(expr.replace(/^\$audit_selector/, ''));
  t.same(filters.map((f) => f.label).sort(), ['decision', 'namespace', 'tenant']);
  for (const f of filters) t.ok(f.label in line, `audit lines have "${f.label}"`);
  const decisions = filters.find((f) => f.label === 'decision')!.value.split('|');
  t.same(decisions.filter((v) => !DECISIONS.includes(v as never)), []);
  t.ok(decisions.includes(String(line.decision)), 'a blocked line passes the filter');
});

t.test('the kube-prometheus-stack ConfigMaps carry each dashboard under the sidecar label', async (t) => {
  const files = generatedFiles(ROOT);
  const { parse } = await import('yaml');
  for (const spec of DASHBOARDS) {
    const cm = parse(files.get(join(SIDECAR_CONFIGMAP_DIR, `${spec.uid}.configmap.yaml`))!) as Json;
    t.match(cm, { apiVersion: 'v1', kind: 'ConfigMap', metadata: { labels: { grafana_dashboard: '1' } } });
    t.equal((cm.data as Record<string, string>)[dashboardFileName(spec.uid)], files.get(join(DASHBOARD_DIR, dashboardFileName(spec.uid))));
  }
  const kustomization = parse(files.get(join(SIDECAR_CONFIGMAP_DIR, 'kustomization.yaml'))!) as Json;
  t.same(kustomization.resources, DASHBOARDS.map((d) => `${d.uid}.configmap.yaml`));
});

t.test('docs/dashboards.md describes every panel', async (t) => {
  const doc = readFileSync(join(ROOT, 'docs', 'dashboards.md'), 'utf8');
  for (const d of loadDashboards()) {
    t.ok(doc.includes(String(d.title)), `${d.title}`);
    for (const p of panelsOf(d).filter((x) => x.type !== 'row')) t.ok(doc.includes(`**${p.title}**`), `${d.uid}: **${p.title}**`);
  }
});

t.test('standalone Grafana provisioning: a file provider for the dashboards, example Prometheus and Loki datasources', async (t) => {
  const { parse } = await import('yaml');
  const provider = parse(readFileSync(join(ROOT, 'config', 'grafana', 'provisioning', 'dashboards', 'kube-dlp.yaml'), 'utf8')) as Json;
  t.match(provider, { apiVersion: 1, providers: [{ name: 'kube-dlp', type: 'file', folder: 'kube-dlp', options: { path: String } }] });
  const datasources = parse(readFileSync(join(ROOT, 'config', 'grafana', 'provisioning', 'datasources', 'kube-dlp-example.yaml'), 'utf8')) as Json;
  t.same((datasources.datasources as Json[]).map((d) => d.type), ['prometheus', 'loki'], 'the plugin types the dashboards\' datasource variables ask for');
});
