// The informer's reflector logic against a scripted client: list, watch,
// unchanged views not reported, a 410 relists and reports what vanished,
// a failed watch resumes from the last version. The real API server is
// exercised by the integration tests; here each server behaviour is forced.
import t from 'tap';
import { waitFor } from '../envtest/wait';
import { Informer, type Change } from '../../operator/kube/informer';
import type { KubeClient, WatchEvent, Query } from '../../operator/kube/client';
import { KubeApiError } from '../../operator/errors';
import { CONFIG_MAPS } from '../../operator/kube/resources';
import { toOwnedView, type OwnedView, type RawObject } from '../../operator/model/views';

const cm = (name: string, value: string, rv: string): RawObject => ({
  metadata: { name, namespace: 'ns', resourceVersion: rv, labels: { a: 'b' } },
  data: { k: value },
});

/** A client whose list answers and watch sessions are scripted in order. */
function scriptedClient(lists: { items: RawObject[]; resourceVersion: string }[], watches: ((onEvent: (e: WatchEvent) => void, query: Query) => Promise<void>)[]) {
  const watchQueries: Query[] = [];
  let listCalls = 0;
  const client = {
    list: async () => {
      const answer = lists[Math.min(listCalls, lists.length - 1)]!;
      listCalls++;
      return answer;
    },
    watch: async (_path: string, query: Query, onEvent: (e: WatchEvent) => void, opts: { signal?: AbortSignal }) => {
      watchQueries.push(query);
      const next = watches.shift();
      if (!next) {
        // Nothing scripted: block until stopped, like an idle watch.
        await new Promise<void>((resolve) => opts.signal?.addEventListener('abort', () => resolve(), { once: true }));
        return;
      }
      await next(onEvent, query);
    },
  } as unknown as KubeClient;
  return { client, watchQueries, listCalls: () => listCalls };
}

const until = (what: string, cond: () => boolean) => waitFor(cond, { what, intervalMs: 5 });

t.test('list, then watch from the list version; unchanged views are not reported', async (t) => {
  const { client, watchQueries } = scriptedClient(
    [{ items: [cm('a', '1', '10'), cm('b', '1', '11')], resourceVersion: '12' }],
    [
      async (emit) => {
        emit({ type: 'MODIFIED', object: { ...cm('a', '1', '13'), metadata: { name: 'a', namespace: 'ns', resourceVersion: '13', labels: { a: 'b' }, annotations: { x: 'y' } } } as never });
        emit({ type: 'MODIFIED', object: cm('b', '2', '14') as never });
        emit({ type: 'BOOKMARK', object: { metadata: { resourceVersion: '20' } } as never });
      },
    ],
  );
  const inf = new Informer<OwnedView>(client, { resource: CONFIG_MAPS, toView: toOwnedView });
  const changes: Change<OwnedView>[] = [];
  inf.onChange((c) => changes.push(c));
  await inf.start();
  t.ok(inf.synced);
  t.same(changes.slice(0, 2).map((c) => `${c.type} ${c.key}`), ['add ns/a', 'add ns/b'], 'the list, before any watch event');
  await until('a second watch', () => watchQueries.length >= 2);
  inf.stop();
  t.equal(watchQueries[0]!.resourceVersion, '12', 'watch starts at the list version');
  t.same(changes.slice(2).map((c) => `${c.type} ${c.key}`), ['update ns/b'], 'an annotation-only change of a is not news');
  t.equal(changes[2]!.previous?.contentHash, changes[1]!.view.contentHash);
  t.equal(watchQueries[1]!.resourceVersion, '20', 'resumes from the bookmark');
});

t.test('410 Gone: relist, and report objects that vanished meanwhile as deletes', async (t) => {
  const { client, listCalls } = scriptedClient(
    [
      { items: [cm('a', '1', '10'), cm('b', '1', '11')], resourceVersion: '12' },
      { items: [cm('b', '2', '30'), cm('c', '1', '31')], resourceVersion: '32' },
    ],
    [async (emit) => emit({ type: 'ERROR', object: { code: 410, metadata: {} } as never })],
  );
  const inf = new Informer<OwnedView>(client, { resource: CONFIG_MAPS, toView: toOwnedView });
  const changes: string[] = [];
  inf.onChange((c) => changes.push(`${c.type} ${c.key}`));
  await inf.start();
  await until('the relist and its five changes', () => listCalls() >= 2 && changes.length >= 5);
  inf.stop();
  t.same(changes, ['add ns/a', 'add ns/b', 'update ns/b', 'add ns/c', 'delete ns/a']);
  t.same([...inf.values()].map((v) => v.name).sort(), ['b', 'c']);
});

t.test('a watch that fails is resumed from the last version seen', async (t) => {
  const { client, watchQueries } = scriptedClient(
    [{ items: [], resourceVersion: '5' }],
    [
      async (emit) => {
        emit({ type: 'ADDED', object: cm('a', '1', '6') as never });
        throw new KubeApiError('WATCH', '/x', 0, undefined, 'connection reset');
      },
    ],
  );
  const inf = new Informer<OwnedView>(client, { resource: CONFIG_MAPS, toView: toOwnedView });
  await inf.start();
  await until('a second watch', () => watchQueries.length >= 2);
  inf.stop();
  t.equal(watchQueries[1]!.resourceVersion, '6');
  t.ok(inf.get('a', 'ns'));
});

t.test('an optional resource the cluster does not serve leaves an empty, synced cache', async (t) => {
  const client = {
    list: async () => {
      throw new KubeApiError('GET', '/apis/x', 404, 'NotFound', 'the server could not find the requested resource');
    },
  } as unknown as KubeClient;
  const inf = new Informer(client, { resource: CONFIG_MAPS, toView: toOwnedView, optional: true });
  await inf.start();
  t.ok(inf.synced);
  t.equal(inf.size, 0);
});
