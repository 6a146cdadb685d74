// proxy/metrics/prom-client-core.ts loads four prom-client classes from the
// package's lib/ files, past its index: they must be the very classes the
// index exports (an upgrade that moves or renames them fails here), and the
// proxy's module graph must not load the index at all.
import t from 'tap';
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import * as promClient from 'prom-client';
import * as core from '../../proxy/metrics/prom-client-core';

t.test('the same classes as the package index exports', async (t) => {
  t.equal(core.Registry, promClient.Registry);
  t.equal(core.Counter, promClient.Counter);
  t.equal(core.Gauge, promClient.Gauge);
  t.equal(core.Histogram, promClient.Histogram);
});

t.test('they work together: a counter registered on a registry is exposed', async (t) => {
  const registry = new core.Registry();
  const counter = new core.Counter({ name: 'kdlp_core_test_total', help: 'test', labelNames: ['k'], registers: [registry] });
  counter.inc({ k: 'v' }, 2);
  t.match(await registry.metrics(), /kdlp_core_test_total\{k="v"\} 2/);
});

t.test("the proxy's metrics load without the package index (no cluster, pushgateway or default metrics)", async (t) => {
  const proxyMetrics = JSON.stringify(join(__dirname, '..', '..', 'proxy', 'metrics', 'proxy-metrics'));
  const script = `
    const m = require(${proxyMetrics});
    new m.ProxyMetrics({ pod: 'p', namespace: 'n', tenant: 't' });
    process.stdout.write(JSON.stringify(Object.keys(require.cache).filter((f) => f.includes('prom-client') || f.includes('@opentelemetry'))));
  `;
  const loaded = JSON.parse(execFileSync(process.execPath, [...process.execArgv, '-e', script], { encoding: 'utf8' })) as string[];
  t.ok(loaded.length > 0, 'prom-client is loaded');
  t.same(loaded.filter((f) => /prom-client[\\/]index\.js$|@opentelemetry|cluster\.js|pushgateway|defaultMetrics/.test(f)), []);
});
