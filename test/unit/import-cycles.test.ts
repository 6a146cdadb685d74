// No import cycle in proxy/, operator/ or cli/: a module sits below every
// module that uses it. A cycle makes load order matter (a value read before
// its module finished loading is undefined) and hides which layer owns what.
// Type-only imports count: they tie the layers together all the same.
import t from 'tap';
import { join } from 'node:path';
import { cyclesOf, folderGraph, importGraph } from './import-graph';

const ROOT = join(__dirname, '..', '..');
const { graph, unresolved } = importGraph(ROOT, ['proxy', 'operator', 'cli']);

t.test('the graph is read: every relative import resolves to a source file', async (t) => {
  t.ok(graph.size > 100, `${graph.size} source files`);
  t.ok(graph.get('proxy/start-proxy.ts')?.includes('proxy/profile/index.ts'), 'a known edge is present');
  t.same(unresolved, [], 'no import the walk could not follow');
});

t.test('no import cycle between files', async (t) => {
  const cycles = cyclesOf(graph);
  t.same(cycles, [], cycles.map((c) => `cycle: ${c.join(' ↔ ')}`).join('\n') || 'acyclic');
});

t.test('the proxy listeners do not import each other: each injects its own target resolver', async (t) => {
  const folders = folderGraph(graph);
  t.notOk(folders.get('proxy/server')?.includes('proxy/transparent'), 'proxy/server does not import proxy/transparent');
  t.notOk(folders.get('proxy/transparent')?.includes('proxy/server'), 'proxy/transparent does not import proxy/server');
});

t.test('the cycle finder finds cycles (so an empty answer means something)', async (t) => {
  const sample = new Map([
    ['a.ts', ['b.ts']],
    ['b.ts', ['c.ts']],
    ['c.ts', ['a.ts', 'd.ts']],
    ['d.ts', []],
    ['e.ts', ['e.ts']],
    ['f.ts', ['d.ts']],
  ]);
  t.same(cyclesOf(sample), [['a.ts', 'b.ts', 'c.ts'], ['e.ts']]);
  t.same(cyclesOf(new Map([['x.ts', ['y.ts']], ['y.ts', []]])), []);
  t.same(folderGraph(new Map([['p/a.ts', ['q/b.ts', 'p/c.ts']], ['p/c.ts', []], ['q/b.ts', []]])).get('p'), ['q']);
});
