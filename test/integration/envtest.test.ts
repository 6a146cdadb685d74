// Proof that the test control plane is a real Kubernetes API server: each
// behaviour below is implemented by kube-apiserver itself (CEL and OpenAPI
// validation, status subresource, watch, optimistic concurrency, server-side
// apply, admission webhooks) and would not hold against a fake.

import t from 'tap';
import { createServer, type Server } from 'node:https';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import {
  CoreV1Api,
  CustomObjectsApi,
  KubeConfig,
  PatchStrategy,
  VersionApi,
  Watch,
  setHeaderOptions,
  type V1Pod,
} from '@kubernetes/client-node';
import {
  apiStatusOf,
  createWebhookServingCert,
  getControlPlane,
  installCRDs,
  newNamespace,
  registerMutatingWebhook,
  waitFor,
  type ApiStatus,
  type ControlPlane,
} from '../envtest';
import { listen } from '../../proxy/http/listen';

const CRD_DIR = join(__dirname, '..', 'fixtures', 'envtest', 'crds');
const GROUP = 'envtest.kube-dlp.test';
const VERSION = 'v1';
const PLURAL = 'widgets';

interface Widget {
  apiVersion: string;
  kind: string;
  metadata: {
    name: string;
    namespace?: string;
    resourceVersion?: string;
    generation?: number;
    managedFields?: { manager?: string; operation?: string; fieldsV1?: Record<string, unknown> }[];
  };
  spec: { minReplicas: unknown; maxReplicas: unknown; color?: string; [extra: string]: unknown };
  status?: { phase?: string; observedGeneration?: number };
}

function widget(name: string, spec: Widget['spec'], status?: Widget['status']): Widget {
  return { apiVersion: `${GROUP}/${VERSION}`, kind: 'Widget', metadata: { name }, spec, ...(status ? { status } : {}) };
}

/** Resolves to the apiserver's Status for a request that must fail. */
async function rejection(request: Promise<unknown>): Promise<ApiStatus> {
  try {
    await request;
  } catch (err) {
    const status = apiStatusOf(err);
    if (status) return status;
    throw err;
  }
  throw new Error('request succeeded but was expected to be rejected');
}

const setup: Promise<ControlPlane> = (async () => {
  const plane = await getControlPlane();
  await installCRDs(plane.kubeConfig, CRD_DIR);
  return plane;
})();
// Keep a failed start from also surfacing as an unhandled rejection.
setup.catch(() => {});

t.test('the apiserver reports the version it was built as', async (t) => {
  const plane = await setup;
  const info = await plane.kubeConfig.makeApiClient(VersionApi).getCode();
  t.match(info.gitVersion, /^v1\.\d+\.\d+/);
  // Binaries from build-assets.sh live in <cache>/k8s-assets/<k8s>-<etcd>/;
  // only those are known to be built from the pinned version.
  const built = /k8s-assets\/(v1\.\d+\.\d+)-v3\./.exec(process.env.KUBEBUILDER_ASSETS ?? '');
  if (built) t.equal(info.gitVersion, built[1], 'ldflags set gitVersion');
  t.equal(info.major, info.gitVersion.split('.')[0].slice(1));
  t.comment(`kube-apiserver ${info.gitVersion} at ${plane.server}`);
});

t.test('installing the same CRDs again is idempotent', async (t) => {
  const plane = await setup;
  const again = await installCRDs(plane.kubeConfig, CRD_DIR);
  t.same(
    again.map((crd) => crd.metadata?.name),
    ['widgets.envtest.kube-dlp.test'],
  );
});

t.test('CRD validation is enforced by the apiserver', async (t) => {
  const plane = await setup;
  const namespace = await newNamespace(plane.kubeConfig, 'validation');
  const api = plane.kubeConfig.makeApiClient(CustomObjectsApi);
  const create = (body: Widget): Promise<unknown> =>
    api.createNamespacedCustomObject({ group: GROUP, version: VERSION, namespace, plural: PLURAL, body });

  const cel = await rejection(create(widget('inverted', { minReplicas: 5, maxReplicas: 1 })));
  t.equal(cel.code, 422);
  t.equal(cel.reason, 'Invalid');
  // The apiserver's own wording (v1.37 no longer quotes the "object" value).
  t.equal(
    cel.message,
    'Widget.envtest.kube-dlp.test "inverted" is invalid: spec: Invalid value: minReplicas must not exceed maxReplicas',
  );

  const typed = await rejection(create(widget('typed', { minReplicas: 1, maxReplicas: 'many' })));
  t.equal(typed.code, 422);
  t.match(typed.message, /spec\.maxReplicas: Invalid value: "string": spec\.maxReplicas in body must be of type integer/);

  // A structural schema prunes fields it does not declare.
  const stored = (await create(widget('pruned', { minReplicas: 1, maxReplicas: 2, undeclared: 'x' }))) as Widget;
  t.notOk('undeclared' in stored.spec, 'unknown field pruned');
  t.equal(stored.spec.maxReplicas, 2);
});

t.test('status goes through the status subresource only', async (t) => {
  const plane = await setup;
  const namespace = await newNamespace(plane.kubeConfig, 'status');
  const api = plane.kubeConfig.makeApiClient(CustomObjectsApi);
  const ref = { group: GROUP, version: VERSION, namespace, plural: PLURAL, name: 'w' };

  const created = (await api.createNamespacedCustomObject({
    ...ref,
    body: widget('w', { minReplicas: 1, maxReplicas: 2 }, { phase: 'SetOnCreate' }),
  })) as Widget;
  t.equal(created.status, undefined, 'status in a create is dropped');
  t.equal(created.metadata.generation, 1);

  const withStatus = (await api.replaceNamespacedCustomObjectStatus({
    ...ref,
    body: { ...created, status: { phase: 'Ready', observedGeneration: 1 } },
  })) as Widget;
  t.same(withStatus.status, { phase: 'Ready', observedGeneration: 1 });
  t.equal(withStatus.metadata.generation, 1, 'a status write does not bump generation');

  const updated = (await api.replaceNamespacedCustomObject({
    ...ref,
    body: { ...withStatus, spec: { minReplicas: 1, maxReplicas: 3 }, status: { phase: 'FromMainResource' } },
  })) as Widget;
  t.equal(updated.spec.maxReplicas, 3, 'spec change applied');
  t.same(updated.status, { phase: 'Ready', observedGeneration: 1 }, 'status in a main-resource update ignored');
  t.equal(updated.metadata.generation, 2, 'a spec change bumps generation');
});

t.test('a watch sees ADDED, MODIFIED and DELETED', async (t) => {
  const plane = await setup;
  const namespace = await newNamespace(plane.kubeConfig, 'watch');
  const api = plane.kubeConfig.makeApiClient(CustomObjectsApi);
  const ref = { group: GROUP, version: VERSION, namespace, plural: PLURAL };

  // Watching from the list's resourceVersion guarantees no event is missed
  // between starting the watch and the first write.
  const list = (await api.listNamespacedCustomObject(ref)) as { metadata: { resourceVersion: string } };
  const events: { type: string; name: string; maxReplicas: unknown }[] = [];
  let watchError: unknown;
  const controller = await new Watch(plane.kubeConfig).watch(
    `/apis/${GROUP}/${VERSION}/namespaces/${namespace}/${PLURAL}`,
    { resourceVersion: list.metadata.resourceVersion },
    (type, obj: Widget) => events.push({ type, name: obj.metadata.name, maxReplicas: obj.spec.maxReplicas }),
    (err) => (watchError = err),
  );
  t.teardown(() => controller.abort());

  const created = (await api.createNamespacedCustomObject({
    ...ref,
    body: widget('watched', { minReplicas: 1, maxReplicas: 2 }),
  })) as Widget;
  await api.replaceNamespacedCustomObject({
    ...ref,
    name: 'watched',
    body: { ...created, spec: { minReplicas: 1, maxReplicas: 4 } },
  });
  await api.deleteNamespacedCustomObject({ ...ref, name: 'watched' });

  await waitFor(async () => events.some((e) => e.type === 'DELETED'), { what: 'the DELETED watch event' });
  t.equal(watchError, undefined);
  t.same(events, [
    { type: 'ADDED', name: 'watched', maxReplicas: 2 },
    { type: 'MODIFIED', name: 'watched', maxReplicas: 4 },
    { type: 'DELETED', name: 'watched', maxReplicas: 4 },
  ]);
});

t.test('an update with a stale resourceVersion gets 409 Conflict', async (t) => {
  const plane = await setup;
  const namespace = await newNamespace(plane.kubeConfig, 'conflict');
  const api = plane.kubeConfig.makeApiClient(CustomObjectsApi);
  const ref = { group: GROUP, version: VERSION, namespace, plural: PLURAL, name: 'contended' };

  const original = (await api.createNamespacedCustomObject({
    ...ref,
    body: widget('contended', { minReplicas: 1, maxReplicas: 2 }),
  })) as Widget;
  const first = (await api.replaceNamespacedCustomObject({
    ...ref,
    body: { ...original, spec: { minReplicas: 1, maxReplicas: 5 } },
  })) as Widget;
  t.not(first.metadata.resourceVersion, original.metadata.resourceVersion);

  const stale = await rejection(
    api.replaceNamespacedCustomObject({ ...ref, body: { ...original, spec: { minReplicas: 1, maxReplicas: 9 } } }),
  );
  t.equal(stale.code, 409);
  t.equal(stale.reason, 'Conflict');
  t.match(stale.message, 'the object has been modified; please apply your changes to the latest version and try again');
  const current = (await api.getNamespacedCustomObject(ref)) as Widget;
  t.equal(current.spec.maxReplicas, 5, 'the stale write changed nothing');
});

t.test('server-side apply records the field manager', async (t) => {
  const plane = await setup;
  const namespace = await newNamespace(plane.kubeConfig, 'apply');
  const api = plane.kubeConfig.makeApiClient(CustomObjectsApi);
  const ref = { group: GROUP, version: VERSION, namespace, plural: PLURAL, name: 'applied' };
  // client-node 1.x picks a JSON-patch content type for this call; the
  // middleware replaces it. A JSON body is valid apply YAML.
  const asApply = setHeaderOptions('Content-Type', PatchStrategy.ServerSideApply);

  const applied = (await api.patchNamespacedCustomObject(
    {
      ...ref,
      body: widget('applied', { minReplicas: 1, maxReplicas: 2, color: 'blue' }),
      fieldManager: 'kdlp-envtest-owner',
    },
    asApply,
  )) as Widget;
  const entry = applied.metadata.managedFields?.find((m) => m.manager === 'kdlp-envtest-owner');
  t.equal(entry?.operation, 'Apply');
  t.match(entry?.fieldsV1, { 'f:spec': { 'f:color': {}, 'f:minReplicas': {}, 'f:maxReplicas': {} } });

  // Only a real field-ownership tracker can detect this conflict.
  const contested = await rejection(
    api.patchNamespacedCustomObject(
      { ...ref, body: widget('applied', { minReplicas: 1, maxReplicas: 2, color: 'red' }), fieldManager: 'kdlp-envtest-other' },
      asApply,
    ),
  );
  t.equal(contested.code, 409);
  t.match(contested.message, /conflict with "kdlp-envtest-owner"/);
  t.match(contested.message, '.spec.color');
});

t.test('a mutating webhook on localhost patches new Pods', async (t) => {
  const plane = await setup;
  const namespace = await newNamespace(plane.kubeConfig, 'webhook');
  const cert = await createWebhookServingCert();

  const seen: { operation: string; kind: string; namespace: string; dryRun: boolean }[] = [];
  const server: Server = createServer({ cert: cert.certPem, key: cert.keyPem }, (req, res) => {
    let body = '';
    req.setEncoding('utf8');
    req.on('data', (chunk: string) => (body += chunk));
    req.on('end', () => {
      const review = JSON.parse(body) as {
        request: { uid: string; operation: string; kind: { kind: string }; namespace: string; dryRun?: boolean; object: V1Pod };
      };
      const r = review.request;
      seen.push({ operation: r.operation, kind: r.kind.kind, namespace: r.namespace, dryRun: r.dryRun === true });
      // JSON Patch "add" needs the parent to exist: add the whole map when absent.
      const patch = r.object.metadata?.labels
        ? [{ op: 'add', path: '/metadata/labels/kube-dlp.test~1mutated', value: 'yes' }]
        : [{ op: 'add', path: '/metadata/labels', value: { 'kube-dlp.test/mutated': 'yes' } }];
      res.setHeader('Content-Type', 'application/json');
      res.end(
        JSON.stringify({
          apiVersion: 'admission.k8s.io/v1',
          kind: 'AdmissionReview',
          response: {
            uid: r.uid,
            allowed: true,
            patchType: 'JSONPatch',
            patch: Buffer.from(JSON.stringify(patch)).toString('base64'),
          },
        }),
      );
    });
  });
  await listen(server, { host: '127.0.0.1', port: 0 });
  t.teardown(() => new Promise<void>((resolve) => server.close(() => resolve())));
  const port = (server.address() as AddressInfo).port;

  const hook = await registerMutatingWebhook(plane.kubeConfig, {
    name: `${namespace}.label.kube-dlp.test`,
    url: `https://127.0.0.1:${port}/mutate`,
    caPem: cert.caPem,
    namespace,
    rules: [{ apiGroups: [''], apiVersions: ['v1'], operations: ['CREATE'], resources: ['pods'], scope: 'Namespaced' }],
  });
  t.teardown(() => hook.remove());

  const core = plane.kubeConfig.makeApiClient(CoreV1Api);
  const pod = (name: string, labels?: Record<string, string>): V1Pod => ({
    metadata: { name, ...(labels ? { labels } : {}) },
    // Never scheduled or pulled: there are no nodes.
    spec: { containers: [{ name: 'app', image: 'registry.invalid/kube-dlp/none:1' }] },
  });
  // The apiserver loads webhook configurations through an informer; dry-run
  // creates (sent to side-effect-free webhooks too) show when it is active.
  await waitFor(
    async () => {
      await core.createNamespacedPod({ namespace, body: pod('probe'), dryRun: 'All' });
      return seen.length > 0;
    },
    { what: 'the webhook configuration to take effect' },
  );

  const created = await core.createNamespacedPod({ namespace, body: pod('labelled', { app: 'demo' }) });
  t.same(created.metadata?.labels, { app: 'demo', 'kube-dlp.test/mutated': 'yes' });
  const bare = await core.createNamespacedPod({ namespace, body: pod('bare') });
  t.same(bare.metadata?.labels, { 'kube-dlp.test/mutated': 'yes' });
  const stored = await core.readNamespacedPod({ namespace, name: 'labelled' });
  t.equal(stored.metadata?.labels?.['kube-dlp.test/mutated'], 'yes', 'the patch is persisted');
  t.same(
    seen.filter((s) => !s.dryRun),
    [
      { operation: 'CREATE', kind: 'Pod', namespace, dryRun: false },
      { operation: 'CREATE', kind: 'Pod', namespace, dryRun: false },
    ],
  );
});

t.test('the kubeconfig file works for a fresh client-node KubeConfig', async (t) => {
  const plane = await setup;
  const namespace = await newNamespace(plane.kubeConfig, 'kubeconfig');
  const kc = new KubeConfig();
  kc.loadFromFile(plane.kubeconfigPath);
  t.equal(kc.getCurrentCluster()?.server, plane.server);
  const read = await kc.makeApiClient(CoreV1Api).readNamespace({ name: namespace });
  t.equal(read.metadata?.name, namespace);
  t.match(namespace, /^kubeconfig-[a-z0-9]{5}$/, 'newNamespace adds a random suffix');
});
