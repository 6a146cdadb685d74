// The alert rules and scrape manifests: promtool accepts the rules and their
// unit tests pass, every alert is tested both ways and documented, the
// PrometheusRule carries exactly the plain rules, metric names are exported,
// and the monitors select what the injection webhook and the operator's
// manifests really produce.
import t from 'tap';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse, stringify } from 'yaml';
import { PROMETHEUS_RULE_FILE, RULES_FILE, repoRoot } from '../../scripts/prometheus/generate';
import { alertRules, kubedlpMetricNames, labelMatchers, type AlertRule } from '../../scripts/prometheus/queries';
import type { Json } from '../../scripts/prometheus/grafana';
import { DECISIONS } from '../../proxy/outcome/decision';
import { REQUEST_RESULTS } from '../../operator/webhook/metrics';
import { INJECTED_TRUE, LABEL_INJECTED_POD, PROXY_ADMIN_PORT, PROXY_CONTAINER } from '../../operator/inject/names';
import { exportedMetrics } from '../fixtures/prometheus/exported-metrics';

const ROOT = repoRoot(__dirname);
const TESTS_DIR = join(ROOT, 'config', 'prometheus', 'tests');
const RUNBOOK_BASE = 'https://github.com/kube-dlp/kube-dlp/blob/main/docs/runbooks.md';
const PROMTOOL_HINT = 'promtool is not installed: run scripts/ensure-deps.sh (Debian package "prometheus")';

const rules = (): AlertRule[] => alertRules(parse(readFileSync(join(ROOT, RULES_FILE), 'utf8')) as Json);
const load = (path: string): Json => parse(readFileSync(join(ROOT, path), 'utf8')) as Json;

function promtool(args: string[], cwd = ROOT): { status: number | null; output: string; missing: boolean } {
  const r = spawnSync('promtool', args, { cwd, encoding: 'utf8' });
  return { status: r.status, output: `${r.stdout ?? ''}${r.stderr ?? ''}`, missing: (r.error as NodeJS.ErrnoException | undefined)?.code === 'ENOENT' };
}

t.test('promtool accepts the rules file', async (t) => {
  const r = promtool(['check', 'rules', RULES_FILE]);
  if (r.missing) return t.fail(PROMTOOL_HINT);
  t.equal(r.status, 0, r.output);
  t.match(r.output, new RegExp(`SUCCESS: ${rules().length} rules found`));
});

t.test('promtool unit tests pass for every alert', async (t) => {
  const files = readdirSync(TESTS_DIR).filter((f) => f.endsWith('.yaml')).map((f) => join('config', 'prometheus', 'tests', f));
  t.ok(files.length > 0);
  const r = promtool(['test', 'rules', ...files]);
  if (r.missing) return t.fail(PROMTOOL_HINT);
  t.equal(r.status, 0, r.output);
  t.notMatch(r.output, /FAILED/);
});

t.test('the promtool unit tests can fail: a wrong expectation is reported', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'kdlp-promtool-'));
  const test = {
    rule_files: [join(ROOT, RULES_FILE)],
    evaluation_interval: '1m',
    tests: [
      {
        interval: '1m',
        input_series: [{ series: 'kubedlp_engine_info{namespace="payments", pod="checkout-a", engine="vectorscan"}', values: '1x30' }],
        alert_rule_test: [{ eval_time: '20m', alertname: 'KubeDlpFallbackEngine', exp_alerts: [{ exp_labels: { severity: 'warning', namespace: 'payments', pod: 'checkout-a' } }] }],
      },
    ],
  };
  writeFileSync(join(dir, 'wrong.yaml'), stringify(test));
  const r = promtool(['test', 'rules', join(dir, 'wrong.yaml')]);
  if (r.missing) return t.fail(PROMTOOL_HINT);
  t.not(r.status, 0, 'a Vectorscan sidecar does not raise the fallback alert');
  t.match(r.output, /FAILED/);
});

t.test('every alert has a test where it fires and one where it must not', async (t) => {
  const fires = new Set<string>();
  const quiet = new Set<string>();
  for (const f of readdirSync(TESTS_DIR).filter((x) => x.endsWith('.yaml'))) {
    const doc = load(join('config', 'prometheus', 'tests', f));
    t.same(doc.rule_files, ['../rules/kube-dlp.rules.yml'], `${f} tests the rules file itself`);
    for (const test of doc.tests as Json[]) {
      for (const c of test.alert_rule_test as Array<{ alertname: string; exp_alerts?: unknown[] }>) {
        ((c.exp_alerts ?? []).length > 0 ? fires : quiet).add(c.alertname);
      }
    }
  }
  for (const r of rules()) {
    t.ok(fires.has(r.alert), `${r.alert}: a case where it fires`);
    t.ok(quiet.has(r.alert), `${r.alert}: a case where it does not`);
  }
});

t.test('every alert is labelled with a severity and annotated with summary, description and a runbook section that exists', async (t) => {
  const runbooks = readFileSync(join(ROOT, 'docs', 'runbooks.md'), 'utf8');
  const anchors = new Set([...runbooks.matchAll(/^#{2,3} (.+)$/gm)].map((m) => githubAnchor(m[1])));
  const all = rules();
  t.same(new Set(all.map((r) => r.alert)).size, all.length, 'unique alert names');
  for (const r of all) {
    t.ok(['critical', 'warning'].includes(r.labels.severity), `${r.alert}: severity ${r.labels.severity}`);
    t.ok(r.annotations.summary?.length > 10, `${r.alert}: summary`);
    t.ok(r.annotations.description?.length > 40, `${r.alert}: description`);
    const url = r.annotations.runbook_url ?? '';
    t.equal(url, `${RUNBOOK_BASE}#${r.alert.toLowerCase()}`, `${r.alert}: runbook_url`);
    t.ok(anchors.has(r.alert.toLowerCase()), `${r.alert}: docs/runbooks.md has a "## ${r.alert}" section`);
  }
});

/** The id GitHub gives a Markdown heading. */
function githubAnchor(heading: string): string {
  return heading
    .trim()
    .toLowerCase()
    .replace(/[^\p{L}\p{N}\s_-]/gu, '')
    .replace(/\s/g, '-');
}

t.test('the PrometheusRule holds exactly the rules of the plain rules file', async (t) => {
  const plain = load(RULES_FILE);
  const rule = load(PROMETHEUS_RULE_FILE);
  t.match(rule, { apiVersion: 'monitoring.coreos.com/v1', kind: 'PrometheusRule', metadata: { name: 'kube-dlp' } });
  t.same((rule.spec as Json).groups, plain.groups);
});

t.test('every kube-dlp metric an alert reads is exported, and label values are ones the code produces', async (t) => {
  const exported = await exportedMetrics();
  const vocabulary: Record<string, readonly string[]> = { decision: DECISIONS, result: REQUEST_RESULTS, engine: ['vectorscan', 're2'] };
  for (const r of rules()) {
    const names = kubedlpMetricNames(r.expr, exported);
    t.ok(names.length > 0, `${r.alert} reads a kube-dlp metric`);
    t.same(names.filter((n) => !exported.names.has(n)), [], `${r.alert}: ${names.join(', ')}`);
    for (const m of labelMatchers(r.expr)) {
      const known = vocabulary[m.label];
      if (known) t.same(m.value.split('|').filter((v) => !known.includes(v)), [], `${r.alert}: ${m.label}${m.op}"${m.value}"`);
    }
  }
});

t.test('the PodMonitor and the plain scrape job select the sidecar the webhook injects', async (t) => {
  const template = parse(readFileSync(join(ROOT, 'operator', 'inject', 'sidecar-template.yaml'), 'utf8')) as {
    proxy: { name: string; ports: Array<{ name: string; containerPort: string }> };
    podLabels: Record<string, string>;
    podAnnotations: Record<string, string>;
  };
  const adminPort = template.proxy.ports.find((p) => p.containerPort === '{{ adminPort }}')!.name;
  t.equal(template.proxy.name, PROXY_CONTAINER);
  t.equal(template.podLabels[LABEL_INJECTED_POD], INJECTED_TRUE);

  const monitor = load('config/prometheus/podmonitor.yaml');
  t.match(monitor, {
    apiVersion: 'monitoring.coreos.com/v1',
    kind: 'PodMonitor',
    spec: { namespaceSelector: { any: true }, selector: { matchLabels: { [LABEL_INJECTED_POD]: INJECTED_TRUE } }, podMetricsEndpoints: [{ port: adminPort, path: '/metrics' }] },
  });
  t.notOk((monitor.spec as Json).podMetricsEndpoints && ((monitor.spec as { podMetricsEndpoints: Json[] }).podMetricsEndpoints[0].honorLabels), 'target namespace and pod win');

  const example = load('config/prometheus/scrape-configs.example.yml') as { scrape_configs: Json[] };
  const sidecars = example.scrape_configs.find((j) => j.job_name === 'kube-dlp-sidecars')!;
  const relabel = sidecars.relabel_configs as Array<{ source_labels?: string[]; regex?: string; action?: string }>;
  t.ok(relabel.some((r) => r.action === 'keep' && r.regex === INJECTED_TRUE && r.source_labels?.[0] === `__meta_kubernetes_pod_label_${LABEL_INJECTED_POD.replace(/[^a-zA-Z0-9]/g, '_')}`));
  t.ok(relabel.some((r) => r.action === 'keep' && r.regex === `${PROXY_CONTAINER};${adminPort}`), 'keeps the proxy container admin port only');

  t.same(template.podAnnotations, { 'prometheus.io/scrape': 'true', 'prometheus.io/port': '{{ adminPort }}', 'prometheus.io/path': '/metrics' }, 'the annotations docs/dashboards.md describes');
  const generic = example.scrape_configs.find((j) => j.job_name === 'kubernetes-pods')!;
  t.ok(
    (generic.relabel_configs as Array<{ regex?: string; action?: string }>).some((r) => r.action === 'drop' && r.regex === `${INJECTED_TRUE};${PROXY_ADMIN_PORT}`),
    'the annotation job leaves sidecars to kube-dlp-sidecars',
  );
});

t.test('the ServiceMonitor and the plain operator job select the metrics Service of config/manager', async (t) => {
  const service = load('config/manager/metrics_service.yaml') as { metadata: { name: string; labels: Record<string, string> }; spec: { ports: Array<{ name: string }> } };
  const namespace = (load('config/manager/namespace.yaml') as { metadata: { name: string } }).metadata.name;
  const monitor = load('config/prometheus/servicemonitor.yaml');
  t.match(monitor, {
    kind: 'ServiceMonitor',
    spec: { namespaceSelector: { matchNames: [namespace] }, selector: { matchLabels: service.metadata.labels }, endpoints: [{ port: service.spec.ports[0].name, path: '/metrics', honorLabels: true }] },
  });
  const example = load('config/prometheus/scrape-configs.example.yml') as { scrape_configs: Json[] };
  const operator = example.scrape_configs.find((j) => j.job_name === 'kube-dlp-operator')!;
  t.equal(operator.honor_labels, true);
  t.ok((operator.relabel_configs as Array<{ regex?: string; action?: string }>).some((r) => r.action === 'keep' && r.regex === `${service.metadata.name};${service.spec.ports[0].name}`));
});

t.test('promtool accepts the plain scrape example', async (t) => {
  const r = promtool(['check', 'config', 'config/prometheus/scrape-configs.example.yml']);
  if (r.missing) return t.fail(PROMTOOL_HINT);
  if (r.status !== 0 && /kubernetes_sd_configs not found/.test(r.output)) {
    // Debian builds Prometheus without Kubernetes discovery; check everything else with static targets in its place.
    const example = load('config/prometheus/scrape-configs.example.yml') as { rule_files: string[]; scrape_configs: Json[] };
    const dir = mkdtempSync(join(tmpdir(), 'kdlp-scrape-'));
    const staticJobs = example.scrape_configs.map(({ kubernetes_sd_configs: sd, ...job }) => {
      t.ok(Array.isArray(sd), `${job.job_name} discovers with Kubernetes`);
      return { ...job, static_configs: [{ targets: ['127.0.0.1:15090'] }] };
    });
    const rulesDir = join(ROOT, 'config', 'prometheus');
    writeFileSync(join(dir, 'prometheus.yml'), stringify({ ...example, rule_files: example.rule_files.map((f) => join(rulesDir, f)), scrape_configs: staticJobs }));
    const fallback = promtool(['check', 'config', 'prometheus.yml'], dir);
    t.equal(fallback.status, 0, fallback.output);
    t.match(fallback.output, /SUCCESS/);
    return;
  }
  t.equal(r.status, 0, r.output);
});
