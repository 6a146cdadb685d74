// `kube-dlp report` against a real Prometheus that scraped real sidecars.
// Three sidecars play pods of two namespaces: payments/checkout-a and
// payments/checkout-b (Protect: cards block, emails redact; checkout-b's
// profile changes once) and analytics/etl-0 (Monitor). The operator's
// webhook metrics (its real WebhookMetrics class on an admin server) report
// one payments pod without the sidecar. Traffic runs in two rounds with
// scrapes in between, then the report's numbers are compared with the
// sidecars' own /metrics, the HTML must carry its SVG charts and no values,
// and the PDF must have pages that pdftoppm renders to non-empty PNGs.
import t from 'tap';
import { waitFor } from '../envtest/wait';
import { execFile, spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { Registry } from 'prom-client';
import { AdminServer } from '../../proxy/admin/admin-server';
import { WebhookMetrics } from '../../operator/webhook/metrics';
import type { ComplianceReport } from '../../cli/compliance/build-report';
import { legendOf, panelSvg, type PanelData } from '../../cli/compliance/panel-image';
import { prometheusApi } from '../../cli/compliance/prometheus-api';
import { renderPng } from '../../cli/compliance/render-pdf';
import { committedDashboards } from '../../scripts/prometheus/generate';
import type { Json } from '../../scripts/prometheus/grafana';
import { expandTemplate, panelsOf } from '../../scripts/prometheus/queries';
import { findPrometheus, INSTALL_HINT, startPrometheus, type RunningPrometheus } from '../fixtures/prometheus/prometheus-server';
import { CARD, CARD_DIGITS, EMAIL, monitorProfile, protectProfile, request, sampleValue, startTestProxy, startUpstream, type TestProxy, type Upstream } from './proxy-harness';

const ROOT = resolve(__dirname, '..', '..');
const BIN = join(ROOT, 'bin', 'kube-dlp.js');

function cli(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((done) => {
    execFile(process.execPath, [BIN, ...args], { cwd: ROOT, timeout: 180_000, maxBuffer: 32 * 1024 * 1024 }, (err, stdout, stderr) =>
      done({ code: err ? Number((err as { code?: number }).code ?? 1) : 0, stdout, stderr }),
    );
  });
}


interface Pod {
  namespace: string;
  pod: string;
  proxy: TestProxy;
}

const prometheusBinary = findPrometheus();
if (prometheusBinary === undefined) {
  t.fail(INSTALL_HINT);
} else {
  t.test('the report matches the metrics, draws its charts and prints to PDF', async (t) => {
    const upstream: Upstream = await startUpstream();
    const pods: Pod[] = [];
    const ns = (n: string) => n.replace('PROFILE_NS', '');
    for (const [namespace, pod, yaml] of [
      ['payments', 'checkout-a', protectProfile()],
      ['payments', 'checkout-b', protectProfile()],
      ['analytics', 'etl-0', monitorProfile()],
    ] as const) {
      pods.push({ namespace, pod, proxy: await startTestProxy(ns(yaml), { identity: { pod, namespace, tenant: namespace } }) });
    }
    const registry = new Registry();
    const webhook = new WebhookMetrics(registry);
    webhook.podsMissingSidecar.set({ namespace: 'payments' }, 1);
    const operatorAdmin = new AdminServer({ metrics: { render: () => registry.metrics(), contentType: registry.contentType }, notReadyReason: () => undefined });
    const operatorAddress = await operatorAdmin.listen({ host: '127.0.0.1', port: 0 });
    let prometheus: RunningPrometheus | undefined;
    t.teardown(async () => {
      await prometheus?.stop();
      await operatorAdmin.close();
      for (const p of pods) await p.proxy.stop();
      await upstream.close();
    });
    prometheus = await startPrometheus(
      {
        global: { scrape_interval: '1s', scrape_timeout: '1s' },
        scrape_configs: [
          {
            job_name: 'kube-dlp-sidecars',
            static_configs: pods.map((p) => ({ targets: [`127.0.0.1:${p.proxy.adminPort}`], labels: { namespace: p.namespace, pod: p.pod } })),
          },
          { job_name: 'kube-dlp-operator', honor_labels: true, static_configs: [{ targets: [`127.0.0.1:${operatorAddress.port}`], labels: { namespace: 'kube-dlp-system', pod: 'operator-0' } }] },
        ],
      },
      prometheusBinary,
    );
    const prom = prometheus;
    const url = (path: string) => `http://127.0.0.1:${upstream.port}${path}`;
    const round = async (): Promise<void> => {
      const [a, b, etl] = pods as [Pod, Pod, Pod];
      for (let i = 0; i < 3; i++) t.equal((await request(a.proxy.port, { method: 'POST', path: url('/pay'), body: `card=${CARD}` })).status, 403);
      for (let i = 0; i < 2; i++) t.equal((await request(a.proxy.port, { method: 'POST', path: url('/mail'), body: `to=${EMAIL}` })).status, 200);
      for (let i = 0; i < 4; i++) await request(b.proxy.port, { path: url('/ok') });
      await request(b.proxy.port, { method: 'POST', path: url('/pay'), body: `card=${CARD}` });
      t.equal((await request(b.proxy.port, { path: 'http://denied.example/x' })).status, 403);
      for (let i = 0; i < 2; i++) await request(etl.proxy.port, { method: 'POST', path: url('/load'), body: `card=${CARD} to=${EMAIL}` });
    };
    // Every target up before traffic, so the first increments land between scrapes.
    await waitFor(async () => (await prom.query('up == 1')).result.length === pods.length + 1, { what: 'every target to be scraped', timeoutMs: 60000, intervalMs: 250 });
    await round();
    await new Promise((r) => setTimeout(r, 3000));
    // A profile change on checkout-b: a new version in kubedlp_config_info.
    const b = pods[1]!.proxy;
    const before = b.running.currentProfile().version;
    b.rewriteProfile(protectProfile('', 2048));
    await waitFor(async () => b.running.currentProfile().version !== before, { what: 'checkout-b to reload', timeoutMs: 60000, intervalMs: 250 });
    await round();

    // Wait until Prometheus holds the sidecars' final counts.
    const truth = async (namespace: string, name: string, labels: Record<string, string> = {}): Promise<number> => {
      let total = 0;
      for (const p of pods.filter((x) => x.namespace === namespace)) total += sampleValue(await p.proxy.metrics(), name, labels);
      return total;
    };
    const paymentsRequests = await truth('payments', 'kubedlp_proxy_requests_total');
    await waitFor(async () => {
      const r = await prom.query('sum(kubedlp_proxy_requests_total{namespace="payments"})');
      return Number(r.result[0]?.value[1] ?? -1) === paymentsRequests;
    }, { what: 'Prometheus to scrape the final counts', timeoutMs: 60000, intervalMs: 250 });
    // The charts draw increase() at 5 s steps (a 10m report), and a counter's
    // first sample counts nothing: the findings show only from the last
    // round's scrape on. Two points (a drawn line) need 10 s of that, so the
    // report runs 11 s after it; with 2.5 s a CI run got one point and no line.
    await new Promise((r) => setTimeout(r, 11_000));

    const json = await cli(['report', '--prometheus', prom.url, '--since', '10m', '--format', 'json']);
    t.equal(json.code, 0, json.stderr);
    const report = JSON.parse(json.stdout) as ComplianceReport;
    t.same(report.namespaces.map((n) => n.namespace), ['analytics', 'payments'], 'every namespace with a sidecar, nothing else');
    const payments = report.namespaces.find((n) => n.namespace === 'payments')!;
    const analytics = report.namespaces.find((n) => n.namespace === 'analytics')!;
    t.equal(payments.requests, paymentsRequests, 'requests match the sidecars');
    for (const decision of ['blocked', 'redacted', 'denied_destination', 'allowed']) {
      t.equal(payments.decisions[decision] ?? 0, await truth('payments', 'kubedlp_proxy_requests_total', { decision }), `payments ${decision}`);
    }
    t.equal(payments.decisions.blocked, 8, 'four cards a round were blocked');
    t.equal(payments.decisions.redacted, 4);
    t.equal(payments.decisions.denied_destination, 2);
    const cardBlocks = payments.findings.find((f) => f.detector === 'pci.card-number' && f.action === 'block');
    t.equal(cardBlocks?.count, await truth('payments', 'kubedlp_findings_total', { detector: 'pci.card-number', action: 'block' }));
    t.same(payments.byCategory.pii, { redact: 4 });
    t.equal(analytics.decisions.allowed, 4);
    t.same(analytics.byCategory, { pci: { monitor: 4 }, pii: { monitor: 4 } });
    t.match(payments.coverage, { sidecarsReporting: 2, podsMissingSidecarMax: 1, podsMissingSidecarNow: 1 });
    t.equal(analytics.coverage.podsMissingSidecarMax, null, 'no coverage gauge for analytics');
    t.equal(payments.profileChanges, 1, 'checkout-b changed profile once');
    t.ok(payments.enforcedOverTime.some((s) => s.points.some(([, v]) => v > 0)), 'the over-time series has data');

    const html = await cli(['report', '--prometheus', prom.url, '--since', '10m', '--namespace', 'payments']);
    t.equal(html.code, 0, html.stderr);
    const page = html.stdout;
    t.equal((page.match(/<svg /g) ?? []).length, 3, 'three inline SVG charts for one namespace');
    t.match(page, /<path d="M[\d.]+,[\d.]+ L/, 'with drawn lines');
    t.match(page, /<table id="summary">[\s\S]*<th scope="row">payments<\/th><td class="num">22<\/td><td class="num">8<\/td>/, "summary row: 22 requests, 8 blocked");
    t.notMatch(page, /<script/i, 'no scripts');
    for (const secret of [CARD, CARD_DIGITS, EMAIL, '/pay', 'denied.example']) t.notOk(page.includes(secret), `no ${secret} in the report`);

    const dir = mkdtempSync(join(tmpdir(), 'kdlp-report-test-'));
    const pdfPath = join(dir, 'report.pdf');
    const pdf = await cli(['report', '--prometheus', prom.url, '--since', '10m', '--format', 'pdf', '--output', pdfPath]);
    t.equal(pdf.code, 0, pdf.stderr);
    t.equal(readFileSync(pdfPath).subarray(0, 5).toString(), '%PDF-');
    const ppm = spawnSync('pdftoppm', ['-png', '-r', '40', pdfPath, join(dir, 'page')], { encoding: 'utf8' });
    t.equal(ppm.status, 0, ppm.stderr);
    const pngs = readdirSync(dir).filter((f) => f.endsWith('.png'));
    t.ok(pngs.length >= 3, `summary plus a page per namespace (${pngs.length} pages)`);
    for (const png of pngs) t.ok(statSync(join(dir, png)).size > 1000, `${png} is not empty`);

    await t.test('every Prometheus panel of the exfiltration dashboard, drawn from this data', async (t) => {
      const dashboard = committedDashboards(ROOT).find((d) => d.uid === 'kube-dlp-exfiltration')!;
      const api = prometheusApi(prom.url);
      const end = Math.floor(Date.now() / 1000);
      // What Grafana substitutes with every variable on All over the last 10 minutes.
      const vars: Record<string, string> = { datasource: 'prometheus', namespace: '.*', tenant: '.*', profile: '.*', pod: '.*', __rate_interval: '1m', __range: '10m', __interval: '5s' };
      const out = join(ROOT, 'dist', 'dashboard-panels', 'kube-dlp-exfiltration');
      mkdirSync(out, { recursive: true });
      const drawn: Array<{ title: string; svg: string }> = [];
      for (const panel of panelsOf(dashboard).filter((p) => p.type !== 'row')) {
        const targets = (panel.targets as Json[] | undefined) ?? [];
        if (panel.type === 'logs') {
          t.match(JSON.stringify(panel.datasource), /loki/i, `${panel.title}: the audit-log panel reads Loki, not Prometheus (not drawn here)`);
          continue;
        }
        const data: PanelData = { type: String(panel.type), title: String(panel.title), values: [], series: [] };
        for (const target of targets) {
          const expr = expandTemplate(String(target.expr), vars);
          if (panel.type === 'timeseries') {
            for (const s of await api.range(expr, end - 600, end, 5)) data.series!.push({ label: legendOf(target.legendFormat as string, s.metric), points: s.points });
          } else {
            for (const s of await api.instant(expr, end)) data.values!.push({ label: legendOf(target.legendFormat as string, s.metric), value: s.value });
          }
        }
        const svg = panelSvg(data);
        const file = join(out, `${String(panel.title).toLowerCase().replace(/[^a-z0-9]+/g, '-')}.svg`);
        writeFileSync(file, svg);
        t.ok(statSync(file).size > 200, `${panel.title}: saved ${file}`);
        drawn.push({ title: String(panel.title), svg });
      }
      t.equal(drawn.length, 14, 'six stats, seven time series and a bar gauge');
      const withData = (title: string) => !drawn.find((d) => d.title === title)!.svg.match(/no data in this window|>No data</);
      for (const title of ['Blocked requests', 'Redacted requests', 'Flagged findings', 'Blocked bytes', 'Blocked, redacted and flagged by namespace', 'Decisions by tenant', 'Findings by detector and action', 'Top detectors', 'Blocked bytes by namespace', 'Cross-tenant and destination denials']) {
        t.ok(withData(title), `${title} shows this test's traffic`);
      }
      // The dashboard's increase() misses what a counter held at its first
      // scrape (series born mid-window), so the stat shows part of the eight
      // blocks; the report's exact window totals are what match the metrics.
      const stat = Number(/class="stat-value"[^>]*>([\d.]+)</.exec(drawn.find((d) => d.title === 'Blocked requests')!.svg)?.[1]);
      t.ok(stat > 0 && stat <= 8, `the Blocked requests stat shows ${stat} of the 8 blocks`);
      const sheet = `<!doctype html><html><body style="margin:0;background:#fff">${drawn.map((d) => `<div style="display:inline-block;vertical-align:top;margin:4px">${d.svg}</div>`).join('')}</body></html>`;
      const png = await renderPng(sheet, 1000, 2000);
      writeFileSync(join(out, 'all-panels.png'), png);
      t.ok(png.length > 20_000, `a PNG of every panel (${png.length} bytes) in ${out}`);
      t.comment(`panel images: ${out}`);
    });

    const bad = await cli(['report', '--prometheus', prom.url, '--since', 'forever']);
    t.equal(bad.code, 2);
    t.match(bad.stderr, /--since must look like 30d/);
  });
}
