// The import graph of the TypeScript sources, read with the compiler's own
// pre-processor (static imports, re-exports, `import type`, require() and
// dynamic import()), and its cycles (strongly connected components).
import ts from 'typescript';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';

/** File (relative to root, forward slashes) → the files it imports. */
export type ImportGraph = Map<string, string[]>;

export interface GraphResult {
  graph: ImportGraph;
  /** Relative imports that resolve to no .ts file: reported, never ignored silently. */
  unresolved: string[];
}

function sourceFiles(dir: string, out: string[] = []): string[] {
  for (const entry of readdirSync(dir)) {
    if (entry === 'node_modules') continue;
    const path = join(dir, entry);
    if (statSync(path).isDirectory()) sourceFiles(path, out);
    else if (entry.endsWith('.ts') && !entry.endsWith('.d.ts')) out.push(path);
  }
  return out;
}

function resolveImport(from: string, specifier: string): string | undefined {
  const base = resolve(dirname(from), specifier);
  return [`${base}.ts`, join(base, 'index.ts'), base.replace(/\.js$/, '.ts')].find((p) => p.endsWith('.ts') && existsSync(p));
}

/** Relative imports among the .ts files under `dirs` (folders of `root`); imports leaving those folders are edges too. */
export function importGraph(root: string, dirs: readonly string[]): GraphResult {
  const graph: ImportGraph = new Map();
  const unresolved: string[] = [];
  const name = (abs: string) => relative(root, abs).split('\\').join('/');
  for (const file of dirs.flatMap((d) => sourceFiles(join(root, d)))) {
    const info = ts.preProcessFile(readFileSync(file, 'utf8'), true, true);
    const targets: string[] = [];
    for (const ref of info.importedFiles) {
      if (!ref.fileName.startsWith('.')) continue;
      const target = resolveImport(file, ref.fileName);
      if (target) targets.push(name(target));
      else if (!/\.(json|node|js|cjs|mjs)$/.test(ref.fileName)) unresolved.push(`${name(file)} → ${ref.fileName}`);
    }
    graph.set(name(file), [...new Set(targets)]);
  }
  return { graph, unresolved };
}

/** Every cycle as its members, each listed in a stable order (Tarjan's algorithm, iterative). */
export function cyclesOf(graph: ImportGraph): string[][] {
  let counter = 0;
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const onStack = new Set<string>();
  const stack: string[] = [];
  const cycles: string[][] = [];
  for (const start of [...graph.keys()].sort()) {
    if (index.has(start)) continue;
    const work: Array<{ node: string; next: number }> = [{ node: start, next: 0 }];
    index.set(start, counter);
    low.set(start, counter++);
    stack.push(start);
    onStack.add(start);
    while (work.length > 0) {
      const frame = work[work.length - 1];
      const edges = graph.get(frame.node) ?? [];
      if (frame.next < edges.length) {
        const to = edges[frame.next++];
        if (!index.has(to)) {
          index.set(to, counter);
          low.set(to, counter++);
          stack.push(to);
          onStack.add(to);
          work.push({ node: to, next: 0 });
        } else if (onStack.has(to)) {
          low.set(frame.node, Math.min(low.get(frame.node)!, index.get(to)!));
        }
        continue;
      }
      work.pop();
      if (work.length > 0) {
        const parent = work[work.length - 1].node;
        low.set(parent, Math.min(low.get(parent)!, low.get(frame.node)!));
      }
      if (low.get(frame.node) === index.get(frame.node)) {
        const members: string[] = [];
        let member: string;
        do {
          member = stack.pop()!;
          onStack.delete(member);
          members.push(member);
        } while (member !== frame.node);
        const selfLoop = (graph.get(frame.node) ?? []).includes(frame.node);
        if (members.length > 1 || selfLoop) cycles.push(members.sort());
      }
    }
  }
  return cycles;
}

/** Folder → folders it imports from (a file's folder is its directory). */
export function folderGraph(graph: ImportGraph): ImportGraph {
  const folders = new Map<string, Set<string>>();
  const folderOf = (file: string) => file.slice(0, file.lastIndexOf('/'));
  for (const [file, targets] of graph) {
    const from = folderOf(file);
    const set = folders.get(from) ?? new Set<string>();
    folders.set(from, set);
    for (const target of targets) if (folderOf(target) !== from) set.add(folderOf(target));
  }
  return new Map([...folders].map(([k, v]) => [k, [...v].sort()]));
}
