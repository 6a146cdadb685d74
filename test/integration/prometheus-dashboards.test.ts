// The dashboards and alerts, proven against a real Prometheus.
//
// Four sidecars (kube-dlp proxies started the way the CLI starts them) play
// pods of two tenants: payments/checkout-a and payments/checkout-b (tenant
// acme, the sample Protect profile in two versions: a rollout in progress),
// analytics/etl-0 (tenant globex, the sample Monitor profile, RE2 engine) and
// analytics/ingest-0 (transparent mode, for its capture metrics). The
// operator, with its injection webhook, runs against a private envtest
// control plane with two opted-in namespaces, a profile that is not Ready and
// a pod without the sidecar. Prometheus scrapes them all every second with
// the scrape jobs of config/prometheus/scrape-configs.example.yml (Kubernetes
// discovery replaced by static targets carrying the same __meta labels) and
// evaluates config/prometheus/rules/kube-dlp.rules.yml.
//
// Traffic: allowed, blocked, redacted, flagged, late-blocked, destination-
// and cross-tenant-denied requests, CONNECT tunnels (denied and uninspected),
// a bad request, an upstream error and admission requests, in two rounds so
// counters grow between scrapes; a burst of blocks; a profile and a tenant
// directory that fail to reload; a namespace opting in. Then every panel
// query and every alert expression runs through /api/v1/query: all must
// parse, the ones this traffic feeds must return data, and a panel filtered
// by a template variable must return nothing for a value no series has (so
// the variable really filters) and something for a real one.
import t, { type Test } from 'tap';
import https from 'node:https';
import net from 'node:net';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import pino from 'pino';
import { parse } from 'yaml';
import { CoreV1Api, CustomObjectsApi, type KubeConfig } from '@kubernetes/client-node';
import { startProxy, type RunningProxy } from '../../proxy/start-proxy';
import { runOperator } from '../../operator/run';
import { silentLogger } from '../../operator/kube/logger';
import { INJECT_PATH } from '../../operator/webhook/server';
import type { Json } from '../../scripts/prometheus/grafana';
import { alertRules, dashboardQueries, expandTemplate, parseLabelValues, variableQueries, variablesIn } from '../../scripts/prometheus/queries';
import { RULES_FILE, committedDashboards } from '../../scripts/prometheus/generate';
import { installCRDs, startControlPlane, waitFor, type ControlPlane } from '../envtest';
import { findPrometheus, freeLoopbackPort, INSTALL_HINT, startPrometheus, type RunningPrometheus, type Sample } from '../fixtures/prometheus/prometheus-server';
import { TENANTS_FIXTURE } from '../fixtures/prometheus/exported-metrics';
import { CARD, EMAIL, rawExchange, request, sampleValue, startUpstream, statusOf, streamingRequest, type Upstream } from './proxy-harness';

const ROOT = join(__dirname, '..', '..');
const SAMPLES = join(ROOT, 'config', 'samples');
const SCRAPE_EXAMPLE = join(ROOT, 'config', 'prometheus', 'scrape-configs.example.yml');
const NONE = 'kubedlp-no-such-value';
const IBAN = 'GB82 WEST 1234 5698 7654 32';
const BURST = 30;

/** What Grafana would substitute; All is `.*`. */
const GRAFANA = { __rate_interval: '2m', __range: '1h', __interval: '15s' };
const ALL = { ...GRAFANA, namespace: '.*', tenant: '.*', profile: '.*', pod: '.*' };
const FILTERS = ['namespace', 'tenant', 'profile', 'pod'] as const;
/** One pod's worth of variable values each; a filtered panel must show data for at least one. */
const CONCRETE = [
  { namespace: 'payments', tenant: 'acme', profile: 'protect-payments', pod: 'checkout-a' },
  { namespace: 'payments', tenant: 'acme', profile: 'protect-payments', pod: 'checkout-b' },
  { namespace: 'analytics', tenant: 'globex', profile: 'monitor-all', pod: 'etl-0' },
  { namespace: 'analytics', tenant: 'globex', profile: 'monitor-all', pod: 'ingest-0' },
];

/**
 * Panels this test does not feed, and why: `dashboard uid / panel title`.
 * They must still parse; data is not required. When one gets data (say, the
 * operator starts serving the webhook here), the run prints a comment asking
 * to remove it from this list.
 */
const EXPECTED_EMPTY: Record<string, string> = {
  'kube-dlp-operator / Reconcile errors by code': 'the reconciles in this test succeed',
  // Counted by sidecars that intercept TLS (a CA and an HTTPS upstream); its values are checked in tls-intercept.test.ts.
  'kube-dlp-data-plane / Intercepted TLS: upstream connections': 'no sidecar in this test intercepts TLS',
};

/** Alerts the traffic must raise (pending or firing), and alerts that must stay quiet. */
const ALERTS_RAISED = [
  'KubeDlpExfiltrationBurst',
  'KubeDlpCrossTenantDenial',
  'KubeDlpProfileReloadFailing',
  'KubeDlpTenantDirectoryReloadFailing',
  'KubeDlpFallbackEngine',
  'KubeDlpConfigVersionSkew',
  'KubeDlpPodsMissingSidecar',
];
const ALERTS_QUIET: Record<string, string> = {
  KubeDlpWebhookErrors: 'every admission request succeeds',
  KubeDlpOperatorNoLeader: 'the operator runs without leader election, so it leads',
  KubeDlpPodsProfileMissing: 'no profile is deleted under running sidecars here',
  KubeDlpPodsOrphanedSidecar: 'no namespace opts out here',
  KubeDlpReconcileErrors: EXPECTED_EMPTY['kube-dlp-operator / Reconcile errors by code'],
};

interface Sidecar {
  pod: string;
  namespace: string;
  tenant: string;
  proxy: RunningProxy;
  profilePath: string;
  tenantsPath?: string;
}

interface Env {
  upstream: Upstream;
  sidecars: Sidecar[];
  plane: ControlPlane;
  prometheus: RunningPrometheus;
  webhookPort: number;
  operatorAdminPort: number;
  /** Undone in reverse order at teardown, including whatever a failed set-up had started. */
  cleanups: Array<() => unknown>;
}

const prometheusBinary = findPrometheus();
if (prometheusBinary === undefined) {
  t.fail(INSTALL_HINT);
} else {
  let env: Env | undefined;
  const need = (): Env => {
    if (!env) throw new Error('set-up failed; see the first failure');
    return env;
  };
  const cleanups: Array<() => unknown> = [];

  t.before(async () => {
    env = await setUp(prometheusBinary, cleanups);
  });
  t.teardown(async () => {
    for (const undo of cleanups.reverse()) await undo();
  });

  t.test('traffic of every kind through the sidecars reaches Prometheus', async (t) => {
    const e = need();
    await driveTraffic(t, e, 1);
    await waitUntilScraped(e, 'round 1');
    t.ok(true, 'round 1 scraped');

    // A rendering the sidecar cannot parse, and a tenant directory likewise: both keep the previous one.
    const [a, b] = e.sidecars;
    writeFileSync(a.profilePath, 'apiVersion: kubedlp.io/v1alpha1\nkind: SecurityProfile\nspec: [this is not a profile\n');
    writeFileSync(b.tenantsPath!, 'apiVersion: kubedlp.io/v1alpha1\nkind: TenantDirectory\nnamespaces: 7\n');
    await waitFor(async () => sampleValue(await a.proxy.metrics.render(), 'kubedlp_config_reload_failures_total') >= 1, { what: 'checkout-a rejecting its new profile', timeoutMs: 20_000 });
    await waitFor(async () => sampleValue(await b.proxy.metrics.render(), 'kubedlp_tenant_directory_reload_failures_total') >= 1, { what: 'checkout-b rejecting its new tenant directory', timeoutMs: 20_000 });

    // Another namespace opts in: the operator reconciles while Prometheus watches (its rates and latencies need that).
    await e.plane.kubeConfig
      .makeApiClient(CoreV1Api)
      .createNamespace({ body: { metadata: { name: 'reports', annotations: { 'kubedlp.io/inject': 'enabled', 'kubedlp.io/tenant': 'globex' } } } });

    await driveTraffic(t, e, 2);
    await waitUntilScraped(e, 'round 2');
    await waitFor(async () => Number((await e.prometheus.query('max(kubedlp_operator_managed_namespaces)')).result[0]?.value[1]) === 3, {
      what: 'the operator managing the new namespace, scraped',
      timeoutMs: 30_000,
    });
    t.ok(true, 'round 2 scraped');
  });

  t.test('the documented scrape jobs find the sidecars and the operator, labelled with namespace and pod, and nothing else', async (t) => {
    const e = need();
    type Targets = { activeTargets: Array<{ labels: Record<string, string>; health: string; lastError: string }>; droppedTargets: unknown[] };
    const targets = await e.prometheus.api<Targets>('/api/v1/targets');
    const active = targets.activeTargets.map((x) => ({ job: x.labels.job, namespace: x.labels.namespace, pod: x.labels.pod, health: x.health, error: x.lastError }));
    t.same(
      active.sort((x, y) => `${x.job}${x.pod}`.localeCompare(`${y.job}${y.pod}`)),
      [
        { job: 'kube-dlp-operator', namespace: 'kube-dlp-system', pod: 'kube-dlp-operator-0', health: 'up', error: '' },
        { job: 'kube-dlp-sidecars', namespace: 'payments', pod: 'checkout-a', health: 'up', error: '' },
        { job: 'kube-dlp-sidecars', namespace: 'payments', pod: 'checkout-b', health: 'up', error: '' },
        { job: 'kube-dlp-sidecars', namespace: 'analytics', pod: 'etl-0', health: 'up', error: '' },
        { job: 'kube-dlp-sidecars', namespace: 'analytics', pod: 'ingest-0', health: 'up', error: '' },
      ],
      'one target per sidecar and one for the operator; the annotation job leaves the sidecars to kube-dlp-sidecars',
    );
    // Per pod: the proxy port and the app's port (sidecar job), every port again (annotation job); the webhook port.
    t.equal(targets.droppedTargets.length, 4 * 2 + 4 * 3 + 1, 'the other container ports and the webhook endpoint are dropped');
  });

  t.test('template variables list the namespaces, tenants, profiles and pods the sidecars report', async (t) => {
    const e = need();
    const expected: Record<string, string[]> = {
      namespace: ['analytics', 'payments'],
      tenant: ['acme', 'globex'],
      profile: ['monitor-all', 'protect-payments'],
      pod: ['checkout-a', 'checkout-b', 'etl-0', 'ingest-0'],
    };
    for (const d of committedDashboards(ROOT)) {
      for (const v of variableQueries(d)) {
        const { match, label } = parseLabelValues(expandTemplate(v.query, ALL));
        const values = await e.prometheus.api<string[]>(`/api/v1/label/${label}/values`, match ? { 'match[]': match } : {});
        t.same(values.sort(), expected[v.name], `${v.dashboard} $${v.name}: ${v.query}`);
        if (v.query.includes('$namespace')) {
          const narrowed = parseLabelValues(expandTemplate(v.query, { ...ALL, namespace: 'analytics' }));
          const some = await e.prometheus.api<string[]>(`/api/v1/label/${label}/values`, { 'match[]': narrowed.match! });
          t.ok(some.length > 0 && some.length < expected[v.name].length, `${v.dashboard} $${v.name} narrows with $namespace: ${some.join(', ')}`);
        }
      }
    }
  });

  t.test('every panel query parses; those the traffic feeds return data, and their variables filter', async (t) => {
    const e = need();
    const seen = new Set<string>();
    for (const d of committedDashboards(ROOT)) {
      for (const q of dashboardQueries(d).filter((x) => x.datasource === 'prometheus')) {
        const panelKey = `${q.dashboard} / ${q.panel}`;
        const where = `${panelKey} ${q.refId}`;
        seen.add(panelKey);
        const all = await e.prometheus.query(expandTemplate(q.expr, ALL));
        t.equal(all.status, 'success', `${where} parses${all.error ? `: ${all.error}` : ''}`);
        const exempt = EXPECTED_EMPTY[panelKey];
        if (exempt !== undefined) {
          if (all.result.length > 0) t.comment(`${where} now has data: remove it from EXPECTED_EMPTY (${exempt})`);
          continue;
        }
        t.ok(hasFiniteValue(all.result), `${where} returns data`, { expr: expandTemplate(q.expr, ALL), result: all.result });

        const filters = FILTERS.filter((f) => variablesIn(q.expr).has(f));
        for (const f of filters) {
          const none = await e.prometheus.query(expandTemplate(q.expr, { ...ALL, [f]: NONE }));
          t.same(none.result, [], `${where}: $${f} filters (nothing for ${f}=${NONE})`);
        }
        if (filters.length > 0) {
          let fed = 0;
          for (const values of CONCRETE) {
            const one = await e.prometheus.query(expandTemplate(q.expr, { ...ALL, ...values }));
            if (hasFiniteValue(one.result)) fed++;
          }
          t.ok(fed > 0, `${where}: data for a real ${filters.join('/')} selection, so its label matchers match real labels`);
        }
      }
    }
    t.same(Object.keys(EXPECTED_EMPTY).filter((k) => !seen.has(k)), [], 'every exempted panel exists');
  });

  t.test('every alert expression parses; the traffic raises exactly the alerts it should', async (t) => {
    const e = need();
    const rules = alertRules(parse(readFileSync(join(ROOT, RULES_FILE), 'utf8')) as Json);
    t.same(
      rules.map((r) => r.alert).sort(),
      [...ALERTS_RAISED, ...Object.keys(ALERTS_QUIET)].sort(),
      'every alert is classified',
    );
    for (const r of rules) {
      const res = await e.prometheus.query(r.expr);
      t.equal(res.status, 'success', `${r.alert} parses${res.error ? `: ${res.error}` : ''}`);
      if (ALERTS_RAISED.includes(r.alert)) t.ok(res.result.length > 0, `${r.alert}: the traffic makes its expression true`, { result: res.result });
      if (r.alert in ALERTS_QUIET) t.same(res.result, [], `${r.alert} stays quiet: ${ALERTS_QUIET[r.alert]}`);
    }

    const groups = await e.prometheus.api<{ groups: Array<{ rules: Array<{ name: string; health: string; lastError?: string }> }> }>('/api/v1/rules');
    const loaded = groups.groups.flatMap((g) => g.rules);
    t.same(loaded.filter((r) => r.health !== 'ok').map((r) => `${r.name}: ${r.lastError}`), [], 'Prometheus evaluates every rule without error');
    t.equal(loaded.length, rules.length, 'Prometheus loaded every rule of the rules file');

    // Rules are evaluated every second; give them a few rounds after the last scrape.
    const active = await waitFor(
      async () => {
        const { alerts } = await e.prometheus.api<{ alerts: Array<{ labels: Record<string, string>; state: string }> }>('/api/v1/alerts');
        const names = new Set(alerts.map((a) => a.labels.alertname));
        return ALERTS_RAISED.every((n) => names.has(n)) ? alerts : undefined;
      },
      { what: `alerts ${ALERTS_RAISED.join(', ')} pending or firing`, timeoutMs: 30_000 },
    );
    const raised = new Map<string, Set<string>>();
    for (const a of active) {
      const key = `${a.labels.alertname}${a.labels.namespace ? ` ${a.labels.namespace}` : ''}${a.labels.pod ? `/${a.labels.pod}` : ''}`;
      raised.set(key, (raised.get(key) ?? new Set()).add(a.state));
    }
    t.same(
      [...raised.keys()].sort(),
      [
        'KubeDlpConfigVersionSkew payments',
        'KubeDlpCrossTenantDenial payments',
        'KubeDlpExfiltrationBurst payments',
        'KubeDlpFallbackEngine analytics/etl-0',
        'KubeDlpPodsMissingSidecar payments',
        'KubeDlpProfileReloadFailing payments/checkout-a',
        'KubeDlpTenantDirectoryReloadFailing payments/checkout-b',
      ],
      'each alert for the namespace or pod that caused it, and no other',
    );
    const firing = (k: string): boolean => raised.get(k)?.has('firing') ?? false;
    t.ok(firing('KubeDlpCrossTenantDenial payments'), 'a cross-tenant denial fires at once');
    t.ok(firing('KubeDlpProfileReloadFailing payments/checkout-a') && firing('KubeDlpTenantDirectoryReloadFailing payments/checkout-b'), 'reload failures fire at once');
  });
}

function hasFiniteValue(result: Sample[]): boolean {
  return result.some((s) => Number.isFinite(Number(s.value[1])));
}

async function setUp(prometheusBinary: string, cleanups: Array<() => unknown>): Promise<Env> {
  const dir = mkdtempSync(join(tmpdir(), 'kdlp-dashboards-'));
  cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
  const upstream = await startUpstream();
  cleanups.push(() => upstream.close());
  const quiet = pino({ level: 'silent' });
  const discard = new Writable({ write: (_c, _e, cb) => cb() });
  const watcher = { debounceMs: 20, pollIntervalMs: 100 };

  // payments: the sample Protect profile with tenant isolation on; checkout-b
  // still runs the previous rendering (another hold-back size: another version).
  const protect = readFileSync(join(SAMPLES, 'securityprofile-protect.yaml'), 'utf8').replace('\n  tenancy:\n', '\n  tenancy:\n    denyCrossTenant: true\n');
  if (!protect.includes('denyCrossTenant: true')) throw new Error('the Protect sample has no tenancy section to extend');
  const files = (name: string, profile: string) => {
    const profilePath = join(dir, `${name}.profile.yaml`);
    const tenantsPath = join(dir, `${name}.tenants.yaml`);
    writeFileSync(profilePath, profile);
    writeFileSync(tenantsPath, readFileSync(TENANTS_FIXTURE));
    return { profilePath, tenantsPath };
  };
  const sidecars: Sidecar[] = [];
  const start = async (pod: string, namespace: string, tenant: string, profile: string, extra: Partial<Parameters<typeof startProxy>[0]> = {}): Promise<void> => {
    const { profilePath, tenantsPath } = files(pod, profile);
    const proxy = await startProxy({
      profilePath,
      listen: { host: '127.0.0.1', port: 0 },
      admin: { host: '127.0.0.1', port: 0 },
      identity: { pod, namespace, tenant },
      audit: discard,
      logger: quiet,
      watcher,
      tenancy: { directoryPath: tenantsPath, watcher },
      ...extra,
      ...(extra.watcher ? { watcher: { ...watcher, ...extra.watcher } } : {}),
    });
    cleanups.push(() => proxy.stop(2000));
    sidecars.push({ pod, namespace, tenant, proxy, profilePath, tenantsPath });
  };
  await start('checkout-a', 'payments', 'acme', protect);
  await start('checkout-b', 'payments', 'acme', protect.replace('holdBackBytes: 65536', 'holdBackBytes: 32768'));
  const monitor = readFileSync(join(SAMPLES, 'securityprofile-monitor.yaml'), 'utf8');
  await start('etl-0', 'analytics', 'globex', monitor, { watcher: { engine: 're2' } });
  // Transparent capture needs iptables redirection to carry traffic (test/integration/transparent-netns.test.ts);
  // here it only has to export its capture metrics.
  await start('ingest-0', 'analytics', 'globex', monitor, { mode: 'transparent' });

  const plane = await startControlPlane();
  cleanups.push(() => plane.stop());
  await installCRDs(plane.kubeConfig, join(ROOT, 'crds'));
  await createClusterObjects(plane.kubeConfig);
  const webhookPort = await freeLoopbackPort();
  const operatorErrors: string[] = [];
  const record = (obj: object, msg: string): void => void operatorErrors.push(`${msg} ${JSON.stringify(obj)}`);
  const abort = new AbortController();
  let onAdmin: (port: number) => void = () => undefined;
  const adminPort = new Promise<number>((resolve) => (onAdmin = resolve));
  const operatorDone = runOperator(
    {
      kubeconfig: plane.kubeconfigPath,
      namespace: 'kube-dlp-system',
      admin: '127.0.0.1:0',
      skipPermissionCheck: true,
      identity: 'kube-dlp-operator-0',
      log: { ...silentLogger, error: record },
      // The injection webhook, with its own CA; this test calls it directly (no webhook configuration is registered).
      webhook: { image: 'registry.example/kube-dlp:test', listen: { host: '127.0.0.1', port: webhookPort }, nativeSidecars: true },
      onAdminListening: (a) => onAdmin(a.port),
    },
    abort.signal,
  );
  cleanups.push(() => (abort.abort(), operatorDone));
  const exited = operatorDone.then((code) => Promise.reject(new Error(`the operator exited (${code}): ${operatorErrors.join('; ')}`)));
  exited.catch(() => undefined);
  const operatorAdminPort = await Promise.race([adminPort, exited]);
  // Ready once it leads with synced caches, which is after its webhook started serving.
  await Promise.race([
    exited,
    waitFor(async () => (await request(operatorAdminPort, { path: '/readyz' })).status === 200, { what: 'the operator ready', timeoutMs: 60_000 }),
  ]);

  const prometheus = await startPrometheus(prometheusConfig(sidecars, operatorAdminPort), prometheusBinary);
  cleanups.push(() => prometheus.stop());
  // Every target scraped once before any traffic, so each counter's first
  // rise lies between two samples: rate() and increase() need two, and
  // Prometheus starts scraping a few seconds after it reports ready.
  await waitFor(async () => (await prometheus.query('up == 1')).result.length === sidecars.length + 1, {
    what: 'Prometheus scraping every sidecar and the operator once',
    timeoutMs: 60_000,
    intervalMs: 250,
  });
  return { upstream, sidecars, plane, prometheus, webhookPort, operatorAdminPort, cleanups };
}

/**
 * Two opted-in namespaces (one with its own SecurityProfile), the default
 * ClusterSecurityProfile, a profile that is not Ready, and a pod without the
 * sidecar (no webhook configuration is registered with this API server, so
 * nothing injects it; the operator's rollout reports it).
 */
async function createClusterObjects(kc: KubeConfig): Promise<void> {
  const core = kc.makeApiClient(CoreV1Api);
  const custom = kc.makeApiClient(CustomObjectsApi);
  const namespace = (name: string, annotations: Record<string, string> = {}) => core.createNamespace({ body: { metadata: { name, annotations } } });
  await namespace('kube-dlp-system');
  await namespace('payments', { 'kubedlp.io/inject': 'enabled', 'kubedlp.io/tenant': 'acme', 'kubedlp.io/profile': 'protect-payments' });
  await namespace('analytics', { 'kubedlp.io/inject': 'enabled', 'kubedlp.io/tenant': 'globex' });
  await core.createNamespacedPod({
    namespace: 'payments',
    body: { metadata: { name: 'legacy-batch' }, spec: { containers: [{ name: 'app', image: 'registry.example/batch:1' }] } },
  });
  const sample = (file: string) => parse(readFileSync(join(SAMPLES, file), 'utf8')) as object;
  await custom.createClusterCustomObject({ group: 'kubedlp.io', version: 'v1alpha1', plural: 'clustersecurityprofiles', body: sample('clustersecurityprofile-default.yaml') });
  await custom.createNamespacedCustomObject({ group: 'kubedlp.io', version: 'v1alpha1', namespace: 'payments', plural: 'securityprofiles', body: sample('securityprofile-protect.yaml') });
  // Not Ready: an unbounded repeat is accepted by the API server but not by the operator's pattern check.
  await custom.createNamespacedCustomObject({
    group: 'kubedlp.io',
    version: 'v1alpha1',
    namespace: 'analytics',
    plural: 'securityprofiles',
    body: {
      apiVersion: 'kubedlp.io/v1alpha1',
      kind: 'SecurityProfile',
      metadata: { name: 'draft', namespace: 'analytics' },
      spec: { mode: 'Monitor', detectors: { custom: [{ id: 'order-ref', pattern: 'ORD-[0-9]+' }] } },
    },
  });
}

/**
 * The jobs of scrape-configs.example.yml with Kubernetes discovery replaced
 * by what it would discover: each pod's containers and ports, each with the
 * __meta labels pod discovery sets (the sidecar template's container and
 * port names, the webhook's label and annotations), and the operator's
 * metrics Service endpoint next to another Service's.
 */
function prometheusConfig(sidecars: Sidecar[], operatorAdminPort: number): object {
  const example = parse(readFileSync(SCRAPE_EXAMPLE, 'utf8')) as { scrape_configs: Json[] };
  const job = (name: string) => example.scrape_configs.find((j) => j.job_name === name)!;
  const discovered = (j: Json, targets: Array<{ address: string; labels: Record<string, string> }>): Json => {
    const { kubernetes_sd_configs: _sd, ...rest } = j;
    return { ...rest, static_configs: targets.map((x) => ({ targets: [x.address], labels: x.labels })) };
  };
  const podTargets = sidecars.flatMap((s) => {
    const pod = {
      __meta_kubernetes_namespace: s.namespace,
      __meta_kubernetes_pod_name: s.pod,
      __meta_kubernetes_pod_ip: '127.0.0.1',
      __meta_kubernetes_pod_label_kubedlp_io_injected: 'true',
      __meta_kubernetes_pod_annotation_prometheus_io_scrape: 'true',
      __meta_kubernetes_pod_annotation_prometheus_io_port: '15090',
      __meta_kubernetes_pod_annotation_prometheus_io_path: '/metrics',
    };
    return [
      { address: `127.0.0.1:${s.proxy.adminAddress!.port}`, labels: { ...pod, __meta_kubernetes_pod_container_name: 'kube-dlp-proxy', __meta_kubernetes_pod_container_port_name: 'dlp-admin' } },
      { address: `127.0.0.1:${s.proxy.proxyAddress.port}`, labels: { ...pod, __meta_kubernetes_pod_container_name: 'kube-dlp-proxy', __meta_kubernetes_pod_container_port_name: 'dlp-proxy' } },
      { address: '127.0.0.1:1', labels: { ...pod, __meta_kubernetes_pod_container_name: 'app', __meta_kubernetes_pod_container_port_name: 'http' } },
    ];
  });
  const endpoint = (service: string, port: string, address: string) => ({
    address,
    labels: {
      __meta_kubernetes_namespace: 'kube-dlp-system',
      __meta_kubernetes_pod_name: 'kube-dlp-operator-0',
      __meta_kubernetes_service_name: service,
      __meta_kubernetes_endpoint_port_name: port,
    },
  });
  return {
    global: { scrape_interval: '1s', scrape_timeout: '1s', evaluation_interval: '1s' },
    rule_files: [join(ROOT, RULES_FILE)],
    scrape_configs: [
      discovered(job('kube-dlp-sidecars'), podTargets),
      discovered(job('kubernetes-pods'), podTargets),
      discovered(job('kube-dlp-operator'), [
        endpoint('kube-dlp-operator-metrics', 'http-metrics', `127.0.0.1:${operatorAdminPort}`),
        endpoint('kube-dlp-webhook', 'https', '127.0.0.1:2'),
      ]),
    ],
  };
}

async function driveTraffic(t: Test, e: Env, round: 1 | 2): Promise<void> {
  const [a, b, etl, ingest] = e.sidecars;
  const api = `http://127.0.0.1:${e.upstream.port}`;
  const post = (s: Sidecar, path: string, body: string) =>
    request(s.proxy.proxyAddress.port, { method: 'POST', path: `${api}${path}`, headers: { 'content-type': 'application/json' }, body });
  const status = async (what: string, reply: Promise<{ status: number }>, expected: number) => t.equal((await reply).status, expected, `round ${round}: ${what}`);

  await status('allowed', post(a, '/v1/orders', '{"order":42,"amount":"19.99"}'), 200);
  await status('redacted (email)', post(a, '/v1/tickets', `{"contact":"${EMAIL}"}`), 200);
  await status('flagged (an IBAN is only recorded)', post(a, '/v1/payouts', `{"iban":"${IBAN}"}`), 200);
  const blocks = round === 2 ? BURST : 1;
  for (let i = 0; i < blocks; i++) await status(`blocked card ${i + 1}/${blocks}`, post(a, `/v1/export/${i}`, `{"card":"${CARD}"}`), 403);
  const started = e.upstream.requests.length;
  await status(
    'blocked late (card past the hold-back window)',
    streamingRequest(a.proxy.proxyAddress.port, `${api}/v1/upload`, [Buffer.alloc(256 * 1024, 'a'), () => e.upstream.waitForStarted(started + 1), ` card ${CARD} end`]),
    403,
  );
  await status('destination denied (pastebin)', request(a.proxy.proxyAddress.port, { method: 'POST', path: 'http://pastebin.com/api/api_post.php', body: 'dump' }), 403);
  t.equal(statusOf(await rawExchange(a.proxy.proxyAddress.port, 'CONNECT example.com:443 HTTP/1.1\r\nHost: example.com:443\r\n\r\n', 500)), 403, `round ${round}: CONNECT denied (uninspectable)`);
  await status('cross-tenant (payments -> analytics)', request(a.proxy.proxyAddress.port, { path: 'http://api.analytics.svc.cluster.local/v1/ingest' }), 403);
  await status('bad request (origin-form to the proxy port)', request(a.proxy.proxyAddress.port, { path: '/' }), 400);
  await status('upstream error', request(a.proxy.proxyAddress.port, { path: 'http://127.0.0.1:1/' }), 502);

  await status('checkout-b allowed', post(b, '/v1/orders', '{"order":7}'), 200);
  await status('checkout-b blocked', post(b, '/v1/export', `{"card":"${CARD}"}`), 403);

  await status('etl-0 allowed', post(etl, '/v1/events', '{"event":"signup"}'), 200);
  await status('etl-0 flagged (Monitor mode records the card)', post(etl, '/v1/events', `{"card":"${CARD}"}`), 200);
  const tunnel = await openTunnel(etl.proxy.proxyAddress.port, `127.0.0.1:${e.upstream.port}`);
  e.cleanups.push(() => tunnel.destroy());
  t.pass(`round ${round}: etl-0 CONNECT tunnel open (uninspected, kept open)`);

  const review = await admit(e.webhookPort, 'payments', `api-${round}`);
  t.ok(review.allowed === true && review.patchType === 'JSONPatch', `round ${round}: the webhook injects a pod in payments`);

  // A direct connection to the capture port: served as explicit proxy traffic, or refused when the kernel has no redirect record for it.
  await rawExchange(ingest.proxy.proxyAddress.port, 'GET / HTTP/1.1\r\nHost: x\r\n\r\n', 200);
}

/** An AdmissionReview for a new pod, straight to the webhook's HTTPS port (its certificate comes from the operator's own CA). */
function admit(port: number, namespace: string, name: string): Promise<{ allowed?: boolean; patchType?: string }> {
  const body = JSON.stringify({
    apiVersion: 'admission.k8s.io/v1',
    kind: 'AdmissionReview',
    request: {
      uid: `uid-${name}`,
      kind: { group: '', version: 'v1', kind: 'Pod' },
      resource: { group: '', version: 'v1', resource: 'pods' },
      namespace,
      operation: 'CREATE',
      object: { apiVersion: 'v1', kind: 'Pod', metadata: { name, namespace }, spec: { containers: [{ name: 'app', image: 'registry.example/api:1' }] } },
    },
  });
  return new Promise((resolve, reject) => {
    const req = https.request(
      { host: '127.0.0.1', port, method: 'POST', path: INJECT_PATH, rejectUnauthorized: false, headers: { 'content-type': 'application/json' } },
      (res) => {
        let text = '';
        res.on('data', (c) => (text += c));
        res.on('end', () => {
          try {
            resolve((JSON.parse(text) as { response: { allowed?: boolean; patchType?: string } }).response);
          } catch (err) {
            reject(new Error(`webhook answered ${res.statusCode}: ${text}`, { cause: err }));
          }
        });
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}

function openTunnel(proxyPort: number, target: string): Promise<net.Socket> {
  return new Promise((resolve, reject) => {
    const socket = net.connect(proxyPort, '127.0.0.1', () => socket.write(`CONNECT ${target} HTTP/1.1\r\nHost: ${target}\r\n\r\n`));
    let head = '';
    const onData = (d: Buffer): void => {
      head += d.toString('latin1');
      if (!head.includes('\r\n\r\n')) return;
      socket.off('data', onData);
      if (statusOf(head) === 200) resolve(socket);
      else reject(new Error(`CONNECT ${target}: ${head.split('\r\n')[0]}`));
    };
    socket.on('data', onData);
    socket.on('error', reject);
  });
}

/**
 * Counters whose current values Prometheus must hold before the panels are
 * queried, per job. Each part of the traffic moves at least one of them, the
 * operator's webhook and the transparent sidecar's capture included.
 */
const WATCHED_COUNTERS = {
  'kube-dlp-sidecars': [
    'kubedlp_proxy_requests_total',
    'kubedlp_findings_total',
    'kubedlp_config_reload_failures_total',
    'kubedlp_tenant_directory_reload_failures_total',
    'kubedlp_transparent_connections_total',
  ],
  'kube-dlp-operator': ['kubedlp_webhook_requests_total', 'kubedlp_webhook_injections_total', 'kubedlp_operator_reconciles_total'],
};

/**
 * Until Prometheus holds, for every sidecar and the operator, at least the
 * counter values they report themselves now (counters only grow; the
 * operator's reconciles may go on after this read).
 */
async function waitUntilScraped(e: Env, what: string): Promise<void> {
  const expected: Array<{ job: keyof typeof WATCHED_COUNTERS; counter: string; pod: string; value: number }> = [];
  const read = (job: keyof typeof WATCHED_COUNTERS, pod: string, text: string): void => {
    for (const counter of WATCHED_COUNTERS[job]) {
      // A counter this process does not export (capture metrics exist only in transparent mode).
      if (!text.includes(`\n${counter}`)) continue;
      expected.push({ job, counter, pod, value: sampleValue(text, counter) });
    }
  };
  for (const s of e.sidecars) read('kube-dlp-sidecars', s.pod, await s.proxy.metrics.render());
  read('kube-dlp-operator', 'kube-dlp-operator-0', (await request(e.operatorAdminPort, { path: '/metrics' })).body.toString());
  await waitFor(
    async () => {
      const lagging: string[] = [];
      for (const x of expected) {
        const res = await e.prometheus.query(`sum(${x.counter}{job="${x.job}", pod="${x.pod}"})`);
        const got = Number(res.result[0]?.value[1] ?? Number.NaN);
        if (!(got >= x.value)) lagging.push(`${x.counter}{pod="${x.pod}"}: Prometheus has ${got}, the process ${x.value}`);
      }
      // Thrown, so a timeout names what still lags.
      if (lagging.length > 0) throw new Error(lagging.join('; '));
      return true;
    },
    { what: `Prometheus scraping the ${what} counters`, timeoutMs: 30_000, intervalMs: 250 },
  );
}
