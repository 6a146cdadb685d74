// Writes only what differs: compared with the cache, and with our own applies
// the watch has not echoed yet; oversized ConfigMaps fail for good before
// any request.
import t from 'tap';
import { OwnedWriter } from '../../operator/controller/owned-writer';
import { TerminalReconcileError } from '../../operator/errors';
import type { KubeClient } from '../../operator/kube/client';
import type { Informer } from '../../operator/kube/informer';
import { CONFIG_MAPS } from '../../operator/kube/resources';
import { desiredTenantsConfigMap } from '../../operator/decide/owned-objects';
import { toOwnedView, type OwnedView, type RawObject } from '../../operator/model/views';

function setup() {
  const calls: string[] = [];
  const client = {
    apply: async (_r: unknown, obj: RawObject) => {
      calls.push(`apply ${obj.metadata?.namespace}/${obj.metadata?.name}`);
      return obj;
    },
    delete: async (_r: unknown, name: string, ns: string) => {
      calls.push(`delete ${ns}/${name}`);
    },
  } as unknown as KubeClient;
  const store = new Map<string, OwnedView>();
  const cache = { get: (name: string, ns?: string) => store.get(`${ns}/${name}`) } as unknown as Informer<OwnedView>;
  const writer = new OwnedWriter(client, CONFIG_MAPS, cache);
  /** What the watch would deliver for an object as stored. */
  const stored = (obj: RawObject) => {
    const view = toOwnedView(obj);
    store.set(`${view.namespace}/${view.name}`, view);
    return { type: 'update' as const, key: `${view.namespace}/${view.name}`, view };
  };
  return { calls, writer, stored, store };
}

t.test('applies when absent or different, not when the cache already matches', async (t) => {
  const { calls, writer, stored } = setup();
  const desired = desiredTenantsConfigMap('shop', 'v1');
  t.equal(await writer.ensure(desired), 'applied');
  t.equal(await writer.ensure(desired), 'unchanged', 'applied a moment ago; the echo is not in yet');
  t.equal(writer.observe(stored(desired)), true, 'the echo of our own apply');
  t.equal(await writer.ensure(desired), 'unchanged', 'the cache matches');
  t.equal(await writer.ensure(desiredTenantsConfigMap('shop', 'v2')), 'applied');
  t.same(calls, ['apply shop/kube-dlp-tenants', 'apply shop/kube-dlp-tenants']);
});

t.test('an edit by someone else is news, and is reverted', async (t) => {
  const { calls, writer, stored } = setup();
  const desired = desiredTenantsConfigMap('shop', 'v1');
  await writer.ensure(desired);
  writer.observe(stored(desired));
  const edited = desiredTenantsConfigMap('shop', 'hand-edited');
  t.equal(writer.observe(stored(edited)), false);
  t.equal(await writer.ensure(desired), 'applied');
  t.equal(calls.length, 2);
});

t.test('a changed label or owner is reapplied even with equal content', async (t) => {
  const { writer, stored } = setup();
  const desired = desiredTenantsConfigMap('shop', 'v1');
  const withoutLabels = { ...desired, metadata: { ...desired.metadata, labels: {} } };
  writer.observe(stored(withoutLabels));
  t.equal(await writer.ensure(desired), 'applied');
});

t.test('remove: nothing to do when absent; deletes when present', async (t) => {
  const { calls, writer, stored } = setup();
  t.equal(await writer.remove('kube-dlp-tenants', 'shop'), 'absent');
  stored(desiredTenantsConfigMap('shop', 'v1'));
  t.equal(await writer.remove('kube-dlp-tenants', 'shop'), 'deleted');
  t.same(calls, ['delete shop/kube-dlp-tenants']);
});

t.test('a ConfigMap over the 1 MiB limit fails for good, before any request', async (t) => {
  const { calls, writer } = setup();
  await t.rejects(writer.ensure(desiredTenantsConfigMap('shop', 'x'.repeat(1024 * 1024))), TerminalReconcileError);
  await t.rejects(writer.ensure(desiredTenantsConfigMap('shop', 'x'.repeat(1024 * 1024))), /shop\/kube-dlp-tenants would hold \d+ bytes, over the 1048576-byte limit/);
  t.same(calls, []);
});
