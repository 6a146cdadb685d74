// The sidecar checks documents with plain-schema.ts instead of TypeBox. These
// properties hold it to TypeBox's answers, for every schema it is generated
// for, on the sample documents and on values mutated from them (wrong types,
// missing and extra fields, out-of-range numbers, bad enum values).
import t from 'tap';
import fc from 'fast-check';
import { deepStrictEqual } from 'node:assert';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';
import { Type, type TSchema } from '@sinclair/typebox';
import { TypeCompiler } from '@sinclair/typebox/compiler';
import { Value } from '@sinclair/typebox/value';
import { conforms, withDefaults, type PlainSchema } from '../../proxy/profile/plain-schema';
import { PLAIN_SCHEMA_SOURCES, plainSchemasModule, toPlainSchema } from '../../proxy/profile/plain-schema-generator';
import * as generated from '../../proxy/profile/plain-schemas.generated';
import { schemaIssues } from '../../proxy/profile/validate';

const SAMPLES = join(__dirname, '..', '..', 'config', 'samples');
type Json = unknown;

const sampleDocs = readdirSync(SAMPLES)
  .filter((f) => f.endsWith('.yaml'))
  .map((f) => parse(readFileSync(join(SAMPLES, f), 'utf8')) as Record<string, unknown>);

/** Documents each schema should accept (before mutation), so mutations start near valid values. */
const SEEDS: Record<keyof typeof generated, Json[]> = {
  SECURITY_PROFILE_SPEC: [{}, ...sampleDocs.map((d) => d.spec ?? {})],
  MANIFEST_ENVELOPE: sampleDocs.filter((d) => d.kind !== 'RenderedProfile'),
  RENDERED_ENVELOPE: sampleDocs.filter((d) => d.kind === 'RenderedProfile'),
  TENANT_DIRECTORY: [
    {
      apiVersion: 'kubedlp.io/v1alpha1',
      kind: 'TenantDirectory',
      version: '7',
      clusterDomains: ['cluster.local'],
      clusterNetworks: ['10.96.0.0/12'],
      namespaces: [{ name: 'team-a', tenant: 'acme' }, { name: 'monitoring', shared: true }],
      addresses: [{ cidr: '10.96.12.7', namespace: 'team-a', kind: 'Service', name: 'api' }],
    },
    { apiVersion: 'kubedlp.io/v1alpha1', kind: 'TenantDirectory' },
  ],
};

const DELETE = Symbol('delete');

/** Values that sit near a schema's edges: enum members, bounds, wrong types. */
const replacement = fc.oneof(
  fc.constantFrom<unknown>(DELETE, null, '', 'Protect', 'Monitor', 'block', 'redact', 'pci', 'high', 'Enabled', 'x', 'kubedlp.io/v1alpha1', 'TenantDirectory'),
  fc.constantFrom<unknown>(0, 1, -1, 1.5, 443, 65535, 65536, 1e9, Number.NaN, true, false, [], {}, ['a'], [{}], { a: 'b' }, { a: 1 }),
  fc.string({ maxLength: 8 }),
  fc.integer({ min: -5, max: 70000 }),
  fc.jsonValue({ maxDepth: 2 }),
);

/** Every place a value can be replaced: [container, key] pairs, depth first. */
function places(value: unknown): Array<[Record<string, unknown> | unknown[], string | number]> {
  const out: Array<[Record<string, unknown> | unknown[], string | number]> = [];
  const walk = (v: unknown): void => {
    if (Array.isArray(v)) {
      v.forEach((item, i) => {
        out.push([v, i]);
        walk(item);
      });
    } else if (typeof v === 'object' && v !== null) {
      const record = v as Record<string, unknown>;
      for (const key of Object.keys(record)) {
        out.push([record, key]);
        walk(record[key]);
      }
    }
  };
  walk(value);
  return out;
}

/** A seed with some of its fields replaced, removed or added. */
function mutated(name: keyof typeof generated): fc.Arbitrary<Json> {
  const seeds = SEEDS[name];
  return fc
    .tuple(fc.nat({ max: seeds.length - 1 }), fc.array(fc.tuple(fc.nat(), fc.boolean(), fc.string({ maxLength: 6 }), replacement), { maxLength: 4 }))
    .map(([seed, edits]) => {
      // Defaults first, half the time, so mutations also reach the fields the seed leaves out.
      const value = structuredClone(seeds[seed]);
      const base = edits.length % 2 === 0 ? Value.Default(PLAIN_SCHEMA_SOURCES[name], value) : value;
      for (const [at, addKey, key, to] of edits) {
        const all = places(base);
        if (all.length === 0) return to === DELETE ? base : to;
        const [container, slot] = all[at % all.length];
        const target = addKey && !Array.isArray(container) ? key : slot;
        if (to === DELETE) {
          if (Array.isArray(container)) container.splice(slot as number, 1);
          else delete container[target as string];
        } else {
          (container as Record<string | number, unknown>)[target] = structuredClone(to);
        }
      }
      return base;
    });
}

for (const name of Object.keys(generated) as Array<keyof typeof generated>) {
  const plain: PlainSchema = generated[name];
  const typeBox: TSchema = PLAIN_SCHEMA_SOURCES[name];
  const check = TypeCompiler.Compile(typeBox);

  t.test(`${name}: the seeds conform once defaults are filled in (the property below starts from valid values)`, async (t) => {
    for (const seed of SEEDS[name]) t.ok(check.Check(Value.Default(typeBox, structuredClone(seed))), JSON.stringify(seed).slice(0, 80));
  });

  t.test(`${name}: conforms() answers as TypeBox's Check, and withDefaults() fills in as Value.Default`, async (t) => {
    let accepted = 0;
    let rejected = 0;
    fc.assert(
      fc.property(fc.oneof({ weight: 4, arbitrary: mutated(name) }, { weight: 1, arbitrary: fc.jsonValue({ maxDepth: 3 }) }), (value) => {
        const ours = withDefaults(plain, structuredClone(value));
        const theirs = Value.Default(typeBox, structuredClone(value));
        deepStrictEqual(ours, theirs);
        deepStrictEqual(conforms(plain, value), check.Check(value));
        const verdict = conforms(plain, ours);
        deepStrictEqual(verdict, check.Check(theirs));
        if (verdict) accepted++;
        else rejected++;
      }),
      { numRuns: 600 },
    );
    // Both answers occur, or the property says nothing about one of them.
    t.ok(accepted > 20, `accepted ${accepted}`);
    t.ok(rejected > 20, `rejected ${rejected}`);
  });
}

/** Every sub-schema, paired with the TypeBox schema it was made from, by walking both alike. */
function pairs(plain: PlainSchema, typeBox: TSchema, at: string, out: Array<[string, PlainSchema, TSchema]> = []): Array<[string, PlainSchema, TSchema]> {
  out.push([at, plain, typeBox]);
  for (const [key, child] of Object.entries(plain.properties ?? {})) pairs(child, (typeBox.properties as Record<string, TSchema>)[key], `${at}.${key}`, out);
  if (plain.items) pairs(plain.items, typeBox.items as TSchema, `${at}[]`, out);
  plain.anyOf?.forEach((branch, i) => pairs(branch, (typeBox.anyOf as TSchema[])[i], `${at}|${i}`, out));
  return out;
}

/** Values at the edges of what a sub-schema allows: its bounds, lengths and members, and each wrong type. */
function edgesOf(s: PlainSchema): unknown[] {
  const edges: unknown[] = [undefined, null, true, 0, -0, 1.5, Number.NaN, Infinity, -Infinity, '', 'a', [], {}, ['a'], { a: 'b' }, { a: 1 }];
  for (const n of [s.minimum, s.maximum]) if (n !== undefined) edges.push(n - 1, n - 0.5, n, n + 0.5, n + 1);
  for (const n of [s.minLength, s.maxLength]) if (n !== undefined) edges.push('a'.repeat(Math.max(0, n - 1)), 'a'.repeat(n), 'a'.repeat(n + 1));
  for (const v of s.enum ?? []) edges.push(v, v.toUpperCase(), `${v} `);
  if (s.const !== undefined) edges.push(s.const, String(s.const).toLowerCase());
  if (s.pattern !== undefined) edges.push('abc', 'a-b', '-ab', 'ab-', 'a.b', 'A', 'a'.repeat(64), 'a'.repeat(63), 'a_b');
  return edges;
}

t.test('every sub-schema answers as TypeBox at its edges (bounds, lengths, enum members, patterns, wrong types)', async (t) => {
  let checked = 0;
  for (const name of Object.keys(generated) as Array<keyof typeof generated>) {
    for (const [at, plain, typeBox] of pairs(generated[name], PLAIN_SCHEMA_SOURCES[name], name)) {
      const check = TypeCompiler.Compile(typeBox);
      for (const edge of edgesOf(plain)) {
        if (conforms(plain, edge) !== check.Check(edge)) t.fail(`${at} on ${String(edge)}: plain ${conforms(plain, edge)}, TypeBox ${check.Check(edge)}`);
        checked++;
      }
    }
  }
  t.ok(checked > 1000, `${checked} answers compared`);
});

t.test('the generated module is what the schemas give (npm run generate)', async (t) => {
  t.equal(readFileSync(join(__dirname, '..', '..', 'proxy', 'profile', 'plain-schemas.generated.ts'), 'utf8'), plainSchemasModule());
});

t.test('a schema the plain check would enforce differently is refused at generation, naming the place', async (t) => {
  t.throws(() => toPlainSchema(Type.Object({ a: Type.Record(Type.String(), Type.Number()) }), 'X'), /X\.a: TypeBox kind Record has no plain form/);
  t.throws(() => toPlainSchema(Type.Object({ a: Type.Array(Type.String(), { uniqueItems: true }) }), 'X'), /X\.a: keyword uniqueItems is not checked/);
  t.throws(() => toPlainSchema(Type.Object({ a: Type.String({ format: 'email' }) }), 'X'), /X\.a: keyword format is not checked/);
  t.throws(
    () => toPlainSchema(Type.Object({}, { additionalProperties: Type.String({ default: 'x' }) }), 'X'),
    /X: defaults under additionalProperties are not filled/,
  );
  t.same(toPlainSchema(Type.Object({ a: Type.Integer({ minimum: 1, description: 'dropped' }) }), 'X'), {
    type: 'object',
    required: ['a'],
    properties: { a: { type: 'integer', minimum: 1 } },
  });
});

t.test('a value that does not conform is described by TypeBox, loaded for that', async (t) => {
  t.same(schemaIssues('SECURITY_PROFILE_SPEC', withDefaults(generated.SECURITY_PROFILE_SPEC, { mode: 'Audit' }), 'spec'), [
    { path: 'spec.mode', message: 'must be one of: Monitor, Protect' },
  ]);
  t.same(schemaIssues('SECURITY_PROFILE_SPEC', withDefaults(generated.SECURITY_PROFILE_SPEC, {}), 'spec'), [], 'the defaults conform');
});
