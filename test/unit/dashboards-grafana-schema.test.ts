// The committed dashboards checked against Grafana's own dashboard model, the
// `Dashboard` type of @grafana/schema. Each JSON file becomes the initialiser
// of a `Dashboard`-typed constant and the TypeScript compiler judges it:
// missing required fields, unknown fields (excess-property checks) and values
// outside the model's enums all fail. The model's enums are TypeScript enums,
// which a JSON string can never be assigned to, so the check uses the model
// with each enum replaced by its string values (`${Enum}`): exactly what a
// JSON file may hold.
import t from 'tap';
import ts from 'typescript';
import { join } from 'node:path';
import { committedDashboards, repoRoot } from '../../scripts/prometheus/generate';
import type { Json } from '../../scripts/prometheus/grafana';

const ROOT = repoRoot(__dirname);
const CHECK_DIR = join(ROOT, '.grafana-schema-check');

const MODEL = `import type { Dashboard } from '@grafana/schema';
export type Loose<T> = T extends string ? \`\${T}\` : T extends ReadonlyArray<infer U> ? Array<Loose<U>> : T extends object ? { [K in keyof T]: Loose<T[K]> } : T;
export type DashboardJson = Loose<Dashboard>;
`;

/** Type-checks each dashboard (name → JSON) against the model; the compiler's messages per dashboard. */
function checkAgainstModel(dashboards: Map<string, Json>): Map<string, string[]> {
  const files = new Map<string, string>([[join(CHECK_DIR, 'model.ts'), MODEL]]);
  for (const [name, json] of dashboards) {
    files.set(join(CHECK_DIR, `${name}.ts`), `import type { DashboardJson } from './model';\nexport const dashboard: DashboardJson = ${JSON.stringify(json, null, 1)};\n`);
  }
  const options: ts.CompilerOptions = {
    strict: true,
    noEmit: true,
    skipLibCheck: true,
    target: ts.ScriptTarget.ES2022,
    module: ts.ModuleKind.ESNext,
    moduleResolution: ts.ModuleResolutionKind.Bundler,
    types: [],
  };
  const host = ts.createCompilerHost(options);
  const readFile = host.readFile.bind(host);
  const fileExists = host.fileExists.bind(host);
  const getSourceFile = host.getSourceFile.bind(host);
  host.readFile = (f) => files.get(f) ?? readFile(f);
  host.fileExists = (f) => files.has(f) || fileExists(f);
  // The check files exist only in memory; module resolution asks for their folder first.
  const directoryExists = host.directoryExists?.bind(host);
  host.directoryExists = (d) => d === CHECK_DIR || (directoryExists ? directoryExists(d) : ts.sys.directoryExists(d));
  host.getSourceFile = (f, lang, onError, create) => {
    const text = files.get(f);
    return text !== undefined ? ts.createSourceFile(f, text, lang) : getSourceFile(f, lang, onError, create);
  };
  const program = ts.createProgram([...files.keys()], options, host);
  const out = new Map<string, string[]>();
  for (const name of dashboards.keys()) {
    const sf = program.getSourceFile(join(CHECK_DIR, `${name}.ts`))!;
    const diags = [...program.getSemanticDiagnostics(sf), ...program.getSyntacticDiagnostics(sf)];
    out.set(name, diags.map((d) => ts.flattenDiagnosticMessageText(d.messageText, '\n').split('\n')[0]!));
  }
  const model = program.getSourceFile(join(CHECK_DIR, 'model.ts'))!;
  const modelErrors = program.getSemanticDiagnostics(model);
  if (modelErrors.length > 0) throw new Error(`the model did not resolve: ${ts.flattenDiagnosticMessageText(modelErrors[0]!.messageText, '\n')}`);
  return out;
}

const committed = new Map(committedDashboards(ROOT).map((d) => [String(d.uid), d]));

t.test('every committed dashboard is a valid @grafana/schema Dashboard', async (t) => {
  t.ok(committed.size >= 3, 'dashboards found');
  for (const [name, errors] of checkAgainstModel(committed)) t.same(errors, [], name);
});

t.test('the check fails on what the model forbids', async (t) => {
  const base = committed.get('kube-dlp-exfiltration')!;
  const clone = (): Json => JSON.parse(JSON.stringify(base)) as Json;
  const unknownField = clone();
  (unknownField.panels as Json[])[1]!.colour = 'red';
  const badEnum = clone();
  ((badEnum.panels as Json[])[1]!.fieldConfig as { defaults: { thresholds: { mode: string } } }).defaults.thresholds.mode = 'sideways';
  const missing = clone();
  delete missing.title;
  delete (missing as Record<string, unknown>).schemaVersion;
  const result = checkAgainstModel(new Map([['unknown', unknownField], ['enum', badEnum], ['missing', missing]]));
  t.match(result.get('unknown'), [/known properties, and '"colour"'/]);
  t.match(result.get('enum'), [/"sideways"/]);
  t.match(result.get('missing')!.join('\n'), /schemaVersion|title/);
});
