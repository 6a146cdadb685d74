// Metrics: every exported name is listed in METRIC_NAMES (dashboards are
// checked against it), documented, and prefixed; label values are bounded.
import t from 'tap';
import { METRIC_NAMES, ProxyMetrics } from '../../proxy/metrics/proxy-metrics';

t.test('METRIC_NAMES is exactly what the registry exports', async (t) => {
  const m = new ProxyMetrics({ namespace: 'shop', tenant: 'acme' });
  const exported = (await m.registry.getMetricsAsJSON()).map((x) => x.name).sort();
  t.same(exported, [...METRIC_NAMES].sort());
  for (const metric of await m.registry.getMetricsAsJSON()) {
    t.match(metric.name, /^kubedlp_/);
    t.ok(metric.help.length > 20, `${metric.name} has help text`);
  }
});

t.test('values and labels', async (t) => {
  const m = new ProxyMetrics({ namespace: 'shop', tenant: 'acme' });
  m.request('protect', 'blocked');
  m.request('protect', 'blocked');
  m.request('protect', 'allowed');
  m.finding({ detector: 'pci.card-number', category: 'pci', severity: 'critical', action: 'block' });
  m.blocked(100);
  m.scanned(2048, 0.0002);
  m.configLoaded('abc', 'protect', new Date(1_700_000_000_000));
  m.configLoaded('def', 'protect', new Date(1_700_000_001_000));
  m.engine('vectorscan');
  m.badRequest('header_too_large');
  m.connectionOpened();
  m.connectionOpened();
  m.connectionClosed();
  const text = await m.render();
  t.match(text, /kubedlp_proxy_requests_total\{namespace="shop",tenant="acme",profile="protect",decision="blocked"\} 2/);
  t.match(text, /kubedlp_proxy_requests_total\{namespace="shop",tenant="acme",profile="protect",decision="allowed"\} 1/);
  t.match(text, /kubedlp_findings_total\{detector="pci.card-number",category="pci",severity="critical",action="block"\} 1/);
  t.match(text, /kubedlp_blocked_bytes_total 100/);
  t.match(text, /kubedlp_scan_bytes_total 2048/);
  t.match(text, /kubedlp_config_info\{version="def",profile="protect"\} 1/);
  t.notMatch(text, /version="abc"/, 'only the active version is reported');
  t.match(text, /kubedlp_config_last_reload_success_timestamp_seconds 1700000001/);
  t.match(text, /kubedlp_engine_info\{engine="vectorscan"\} 1/);
  t.match(text, /kubedlp_bad_requests_total\{reason="header_too_large"\} 1/);
  t.match(text, /kubedlp_open_connections 1/);
});
