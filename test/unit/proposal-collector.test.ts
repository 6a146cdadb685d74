// The proposal collector's fan-out with a fake Kubernetes client (the
// envtest integration test covers the real API server): at most
// `concurrency` pods are asked at once, pods that do not answer are skipped
// and counted, Protect namespaces and finished pods are left alone.
import t from 'tap';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { ProposalCollector } from '../../operator/discover/proposal-collector';
import type { KubeClient } from '../../operator/kube/client';
import { silentLogger } from '../../operator/kube/logger';
import type { KubeObject } from '../../operator/model/kube-object';
import { ObservedEgress } from '../../proxy/observe/observed-egress';
import { listen } from '../../proxy/http/listen';

function pod(namespace: string, name: string, phase = 'Running'): KubeObject {
  return { apiVersion: 'v1', kind: 'Pod', metadata: { name, namespace, labels: { 'kubedlp.io/injected': 'true' } }, status: { phase, podIP: '127.0.0.1' } };
}

t.test('bounded concurrency, skipped pods counted, one proposal per Monitor namespace', async (t) => {
  let inFlight = 0;
  let maxInFlight = 0;
  const server = http.createServer((req, res) => {
    inFlight++;
    maxInFlight = Math.max(maxInFlight, inFlight);
    const name = String(req.url).split('/')[1]!;
    const o = new ObservedEgress({ pod: name, namespace: 'shop', tenant: 'shop' });
    o.record({ destination: { host: 'api.example.com', port: 443, scheme: 'tcp' }, shownDestination: 'api.example.com:443', method: 'CONNECT', decision: 'uninspected', requestBytes: 0, findings: [] });
    setTimeout(() => {
      inFlight--;
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify(o.summary()));
    }, 40);
  });
  await listen(server, { host: '127.0.0.1', port: 0 });
  t.teardown(() => new Promise<void>((r) => server.close(() => r())));
  const port = (server.address() as AddressInfo).port;

  const applied: KubeObject[] = [];
  const pods = [...Array.from({ length: 9 }, (_, i) => pod('shop', `web-${i}`)), pod('shop', 'job-done', 'Succeeded'), pod('shop', 'silent')];
  const fake = {
    list: async (r: { plural: string }, opts: { namespace?: string } = {}) => {
      if (r.plural === 'namespaces') {
        return {
          items: [
            { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'shop', annotations: { 'kubedlp.io/inject': 'enabled' } } },
            { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'bank', annotations: { 'kubedlp.io/inject': 'enabled', 'kubedlp.io/profile': 'strict' } } },
            { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'other' } },
          ],
          resourceVersion: '1',
        };
      }
      return { items: opts.namespace === 'shop' ? pods : [pod(opts.namespace ?? '', 'x')], resourceVersion: '1' };
    },
    get: async (r: { plural: string }, name: string, namespace?: string) => {
      if (r.plural === 'securityprofiles' && namespace === 'shop' && name === 'default') return { spec: { mode: 'Monitor' } };
      if (r.plural === 'clustersecurityprofiles' && name === 'strict') return { spec: { mode: 'Protect' } };
      const { KubeApiError } = await import('../../operator/errors');
      throw new KubeApiError('GET', `/${r.plural}/${name}`, 404, 'NotFound', 'not found');
    },
    apply: async (_r: unknown, obj: KubeObject) => {
      applied.push(obj);
      return obj;
    },
  } as unknown as KubeClient;

  const collector = new ProposalCollector({
    client: fake,
    log: silentLogger,
    operatorNamespace: 'kube-dlp-system',
    concurrency: 3,
    timeoutMs: 1000,
    adminUrl: (p) => (p.metadata.name === 'silent' ? 'http://127.0.0.1:1' : `http://127.0.0.1:${port}/${p.metadata.name}`),
  });
  const outcomes = await collector.collectAll();
  t.same(outcomes.find((o) => o.namespace === 'shop'), { namespace: 'shop', outcome: 'written', stats: { pods: 10, answered: 9, skipped: 1 } });
  t.match(outcomes.find((o) => o.namespace === 'bank'), { outcome: 'skipped', reason: 'profile strict is in Protect mode' });
  t.equal(outcomes.length, 2, 'namespaces not opted in are not considered');
  t.ok(maxInFlight <= 3 && maxInFlight >= 2, `at most 3 pods asked at once (saw ${maxInFlight})`);
  t.equal(applied.length, 1);
  const spec = applied[0]!.spec as { profile: { egress: { allow: unknown[] } }; observed: Record<string, number> };
  t.same(spec.profile.egress.allow, [{ host: 'api.example.com', ports: [443], allowUninspectable: true }]);
  t.match(spec.observed, { pods: 10, answered: 9, skipped: 1, sources: 9, requests: 9 });
  t.match(applied[0]!.metadata, { name: 'observed', namespace: 'shop' });
});

t.test('a bad concurrency is refused', async (t) => {
  t.throws(() => new ProposalCollector({ client: {} as KubeClient, log: silentLogger, operatorNamespace: 'x', concurrency: 0 }), /positive integer/);
});
