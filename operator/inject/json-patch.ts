// RFC 6902 JSON Patch between the pod as submitted and the injected pod: what
// an AdmissionResponse carries. The diff is structural, so the patch never
// touches a field the injection did not change. Arrays get index-precise
// insertions when the change is one (the usual case: containers, env and
// volumes are added), so a field another webhook set meanwhile survives;
// anything else replaces the array.

export type Operation =
  | { op: 'add'; path: string; value: unknown }
  | { op: 'remove'; path: string }
  | { op: 'replace'; path: string; value: unknown };

/** RFC 6901: "~" and "/" are escaped inside a reference token. */
export function escapePointer(token: string): string {
  return token.replace(/~/g, '~0').replace(/\//g, '~1');
}

export function createPatch(before: unknown, after: unknown): Operation[] {
  const ops: Operation[] = [];
  diff(before, after, '', ops);
  return ops;
}

function isObject(v: unknown): v is Record<string, unknown> {
  return v !== null && typeof v === 'object' && !Array.isArray(v);
}

export function deepEqual(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (Array.isArray(a)) return Array.isArray(b) && a.length === b.length && a.every((x, i) => deepEqual(x, b[i]));
  if (isObject(a) && isObject(b)) {
    const ka = Object.keys(a).filter((k) => a[k] !== undefined);
    const kb = Object.keys(b).filter((k) => b[k] !== undefined);
    return ka.length === kb.length && ka.every((k) => deepEqual(a[k], b[k]));
  }
  return false;
}

function diff(before: unknown, after: unknown, path: string, ops: Operation[]): void {
  if (deepEqual(before, after)) return;
  if (isObject(before) && isObject(after)) {
    for (const k of Object.keys(before)) {
      if (before[k] !== undefined && after[k] === undefined) ops.push({ op: 'remove', path: `${path}/${escapePointer(k)}` });
    }
    for (const [k, v] of Object.entries(after)) {
      if (v === undefined) continue;
      const p = `${path}/${escapePointer(k)}`;
      if (before[k] === undefined) ops.push({ op: 'add', path: p, value: v });
      else diff(before[k], v, p, ops);
    }
    return;
  }
  if (Array.isArray(before) && Array.isArray(after)) {
    diffArray(before, after, path, ops);
    return;
  }
  ops.push({ op: 'replace', path: path, value: after });
}

function diffArray(before: unknown[], after: unknown[], path: string, ops: Operation[]): void {
  if (before.length === after.length) {
    after.forEach((v, i) => diff(before[i], v, `${path}/${i}`, ops));
    return;
  }
  if (after.length > before.length) {
    // Pure insertion: a common prefix and a common suffix cover all of `before`.
    let prefix = 0;
    while (prefix < before.length && deepEqual(before[prefix], after[prefix])) prefix++;
    let suffix = 0;
    while (suffix < before.length - prefix && deepEqual(before[before.length - 1 - suffix], after[after.length - 1 - suffix])) suffix++;
    if (prefix + suffix === before.length) {
      for (let i = prefix; i < after.length - suffix; i++) {
        ops.push({ op: 'add', path: suffix === 0 ? `${path}/-` : `${path}/${i}`, value: after[i] });
      }
      return;
    }
  }
  ops.push({ op: 'replace', path, value: after });
}

/** Applies a patch made by createPatch (and the same three operations from elsewhere); returns a new document. */
export function applyPatch<T>(doc: T, ops: readonly Operation[]): T {
  let root: unknown = structuredClone(doc);
  for (const op of ops) {
    if (op.path === '') {
      if (op.op === 'remove') throw new Error('cannot remove the document root');
      root = structuredClone(op.value);
      continue;
    }
    const tokens = op.path.slice(1).split('/').map((t) => t.replace(/~1/g, '/').replace(/~0/g, '~'));
    const last = tokens.pop()!;
    let parent: unknown = root;
    for (const t of tokens) {
      parent = Array.isArray(parent) ? parent[Number(t)] : (parent as Record<string, unknown>)?.[t];
      if (parent === undefined || parent === null || typeof parent !== 'object') throw new Error(`${op.op} ${op.path}: no such parent`);
    }
    if (Array.isArray(parent)) {
      const index = last === '-' ? parent.length : Number(last);
      if (!Number.isInteger(index) || index < 0 || index > parent.length) throw new Error(`${op.op} ${op.path}: index out of range`);
      if (op.op === 'add') parent.splice(index, 0, structuredClone(op.value));
      else if (index >= parent.length) throw new Error(`${op.op} ${op.path}: index out of range`);
      else if (op.op === 'remove') parent.splice(index, 1);
      else parent[index] = structuredClone(op.value);
    } else {
      const obj = parent as Record<string, unknown>;
      if (op.op !== 'add' && !(last in obj)) throw new Error(`${op.op} ${op.path}: no such member`);
      if (op.op === 'remove') delete obj[last];
      else obj[last] = structuredClone(op.value);
    }
  }
  return root as T;
}
