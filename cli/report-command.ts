// `kube-dlp report`: a compliance report per namespace from Prometheus, as
// HTML (inline SVG charts), JSON (the same numbers) or PDF (headless Chromium).
import { writeFile } from 'node:fs/promises';
import type { Command } from 'commander';
import { buildReport, parseSince } from './compliance/build-report';
import { prometheusApi, PrometheusQueryError } from './compliance/prometheus-api';
import { renderHtml } from './compliance/render-html';
import { PdfRenderError, renderPdf } from './compliance/render-pdf';
import { UsageError } from './exit-codes';

interface ReportOptions {
  prometheus: string;
  namespace?: string;
  since: string;
  format: string;
  output?: string;
}

export function registerReportCommand(program: Command): void {
  program
    .command('report')
    .description('compliance report from Prometheus: blocked/redacted over time, denied and uninspectable egress, sidecar coverage, profile changes')
    .requiredOption('--prometheus <url>', 'Prometheus base URL, e.g. http://prometheus.monitoring:9090')
    .option('--namespace <ns>', 'one namespace (default: every namespace with a kube-dlp sidecar in the window)')
    .option('--since <duration>', 'report window ending now: 30d, 12h, 90m', '30d')
    .option('--format <format>', 'html, json or pdf', 'html')
    .option('--output <file>', 'write here instead of stdout (needed for pdf on a terminal)')
    .action(async (o: ReportOptions) => {
      if (!['html', 'json', 'pdf'].includes(o.format)) throw new UsageError('--format must be html, json or pdf');
      try {
        parseSince(o.since);
        new URL(o.prometheus);
      } catch (err) {
        throw new UsageError(err instanceof RangeError ? err.message : `--prometheus ${o.prometheus}: not a URL`);
      }
      let body: string | Buffer;
      try {
        const report = await buildReport(prometheusApi(o.prometheus), { prometheusUrl: o.prometheus, namespace: o.namespace, since: o.since });
        if (o.format === 'json') body = JSON.stringify(report, null, 2) + '\n';
        else if (o.format === 'html') body = renderHtml(report);
        else body = await renderPdf(renderHtml(report));
      } catch (err) {
        if (err instanceof PrometheusQueryError || err instanceof PdfRenderError) throw new UsageError(err.message);
        throw err;
      }
      if (o.output) await writeFile(o.output, body);
      else if (o.format === 'pdf' && process.stdout.isTTY) throw new UsageError('--format pdf needs --output FILE (or a redirect)');
      else process.stdout.write(body);
    });
}
