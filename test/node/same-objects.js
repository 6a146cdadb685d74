// Compares two multi-document YAML streams (stdin: `kubectl kustomize` output;
// argv[2]: a file with `helm template` output) object by object: the same
// kinds and names, and the same content once the namespace the kustomization
// sets (and Helm leaves to the release) is ignored. Prints the differences;
// exits 1 if there are any.
const { readFileSync } = require('node:fs');
const { parseAllDocuments } = require('yaml');

const load = (text) =>
  parseAllDocuments(text)
    .map((d) => d.toJS())
    .filter((o) => o && o.kind && o.kind !== 'Namespace');
const key = (o) => `${o.kind}/${o.metadata.name}`;
const normalize = (o) => {
  const copy = JSON.parse(JSON.stringify(o));
  delete copy.metadata.namespace;
  return copy;
};
const kustomized = new Map(load(readFileSync(0, 'utf8')).map((o) => [key(o), normalize(o)]));
const helm = new Map(load(readFileSync(process.argv[2], 'utf8')).map((o) => [key(o), normalize(o)]));
const problems = [];
for (const k of kustomized.keys()) if (!helm.has(k)) problems.push(`only in config/default: ${k}`);
for (const k of helm.keys()) if (!kustomized.has(k)) problems.push(`only in the chart: ${k}`);
const diff = (a, b, path) => {
  if (JSON.stringify(a) === JSON.stringify(b)) return;
  if (a && b && typeof a === 'object' && typeof b === 'object') {
    for (const f of new Set([...Object.keys(a), ...Object.keys(b)])) diff(a[f], b[f], `${path}.${f}`);
    return;
  }
  problems.push(`${path}: config/default ${JSON.stringify(a)} vs chart ${JSON.stringify(b)}`);
};
for (const [k, o] of kustomized) if (helm.has(k)) diff(o, helm.get(k), k);
for (const p of problems) console.log(p);
process.exitCode = problems.length === 0 ? 0 : 1;
