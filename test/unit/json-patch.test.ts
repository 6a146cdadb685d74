// The webhook's hand-written JSON Patch (operator/inject/json-patch.ts)
// checked against an independent RFC 6902 implementation from npm (rfc6902):
// what the API server does with our patch is what rfc6902 does with it, so
// applying it there must give exactly the pod the injection intended.
// Seeded and bounded; a failure prints the shrunk counterexample.
import t from 'tap';
import fc from 'fast-check';
import { isDeepStrictEqual } from 'node:util';
import { applyPatch as rfcApplyPatch, type Operation as RfcOperation } from 'rfc6902';
import { applyPatch, createPatch } from '../../operator/inject/json-patch';
import { DEFAULT_INJECTION_CONFIG, injectPod } from '../../operator/inject/inject';
import { loadTemplate } from '../../operator/inject/render-template';
import type { Container, Pod } from '../../operator/inject/pod';
import type { PodOverrides } from '../../operator/inject/pod-annotations';

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

/** As the API server sees a document: JSON, so undefined members are absent. */
const wire = (v: unknown): unknown => JSON.parse(JSON.stringify(v));

/** Throws (so fast-check shrinks to a small counterexample) unless the two are the same JSON. */
function expectSame(actual: unknown, expected: unknown, what: string): void {
  if (!isDeepStrictEqual(wire(actual), wire(expected))) {
    throw new Error(`${what}\n  got:  ${JSON.stringify(actual)}\n  want: ${JSON.stringify(expected)}`);
  }
}

/** Applies with rfc6902 to a copy; every operation must succeed. */
function applyWithRfc6902(doc: unknown, ops: ReturnType<typeof createPatch>): unknown {
  const copy = structuredClone(doc);
  const results = rfcApplyPatch(copy, ops as RfcOperation[]);
  const failed = results.map((r, i) => (r === null ? undefined : `${ops[i]!.op} ${ops[i]!.path}: ${r.name}`)).filter(Boolean);
  if (failed.length > 0) throw new Error(`rfc6902 refused: ${failed.join('; ')}`);
  return copy;
}

// Keys that need RFC 6901 escaping, and the empty key, next to plain ones.
const key = fc.oneof(fc.string({ maxLength: 5 }), fc.constantFrom('a/b', '~', '~1', 'x~0/y', ''));
const leaf: fc.Arbitrary<Json> = fc.oneof(fc.constant(null), fc.boolean(), fc.integer({ min: -5, max: 5 }), fc.string({ maxLength: 4 }));
const json: fc.Arbitrary<Json> = fc.letrec<{ value: Json }>((tie) => ({
  value: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    leaf,
    fc.array(tie('value'), { maxLength: 4 }),
    fc.dictionary(key, tie('value'), { maxKeys: 4 }),
  ),
})).value;

/**
 * A document derived from `before` by local edits (members kept, changed,
 * removed or added; array items inserted, changed or dropped), so the diff
 * takes its precise paths (index insertions, nested members), not only
 * whole-document replacements.
 */
function editOf(before: Json, depth = 0): fc.Arbitrary<Json> {
  const replaced = depth > 3 ? leaf : json;
  if (Array.isArray(before)) {
    const items = before.map((item) => fc.oneof(fc.constant([item]), fc.constant([]), editOf(item, depth + 1).map((v) => [v])));
    const edited = fc.tuple(...items).map((parts) => parts.flat());
    const inserted = fc.tuple(fc.array(fc.tuple(fc.nat(before.length), replaced), { maxLength: 3 }));
    return fc.oneof(
      edited,
      inserted.map(([inserts]) => {
        const out = [...before];
        for (const [at, v] of inserts) out.splice(Math.min(at, out.length), 0, v);
        return out;
      }),
      replaced,
    );
  }
  if (before !== null && typeof before === 'object') {
    const members = Object.entries(before).map(([k, v]) =>
      fc.oneof(fc.constant([[k, v]] as [string, Json][]), fc.constant([] as [string, Json][]), editOf(v, depth + 1).map((e) => [[k, e]] as [string, Json][])),
    );
    return fc
      .tuple(fc.tuple(...members), fc.dictionary(key, replaced, { maxKeys: 2 }))
      .map(([kept, added]) => ({ ...Object.fromEntries(kept.flat()), ...added }));
  }
  return fc.oneof(fc.constant(before), replaced);
}

const objectDoc = fc.dictionary(key, json, { maxKeys: 5 });
const beforeAndAfter = fc.oneof(
  objectDoc.chain((before) => fc.tuple(fc.constant(before), editOf(before))),
  fc.tuple(objectDoc, objectDoc),
);

t.test('createPatch applied by rfc6902 turns before into after; applyPatch agrees with rfc6902', async (t) => {
  let ops = 0;
  fc.assert(
    fc.property(beforeAndAfter, ([before, after]) => {
      const patch = createPatch(before, after);
      ops += patch.length;
      const byRfc = applyWithRfc6902(before, patch);
      const original = structuredClone(before);
      expectSame(byRfc, after, 'rfc6902(before, createPatch(before, after)) is not after');
      expectSame(applyPatch(before, patch), byRfc, 'our applyPatch and rfc6902 disagree');
      expectSame(before, original, 'applying modified the input');
    }),
    { seed: 6902, numRuns: 300 },
  );
  t.ok(ops > 300, `300 document pairs agreed (${ops} operations)`);
});

// Pods as users submit them: containers with env and ports, optional init
// containers, volumes, labels and annotations; injected in every mode.
const envVar = fc.record({ name: fc.constantFrom('A', 'B', 'HTTP_PROXY', 'PATH'), value: fc.string({ maxLength: 6 }) });
const container = (name: string): fc.Arbitrary<Container> =>
  fc.record(
    {
      name: fc.constant(name),
      image: fc.constantFrom('app:1', 'busybox'),
      env: fc.uniqueArray(envVar, { maxLength: 3, selector: (e) => e.name }),
      ports: fc.array(fc.record({ containerPort: fc.integer({ min: 1, max: 65535 }) }), { maxLength: 2 }),
    },
    { requiredKeys: ['name', 'image'] },
  );
const containers = (names: string[]) =>
  fc.subarray(names, { minLength: 1 }).chain((chosen) => fc.tuple(...chosen.map(container)));
const podArb: fc.Arbitrary<Pod> = fc.record(
  {
    apiVersion: fc.constant('v1'),
    kind: fc.constant('Pod'),
    metadata: fc.record(
      {
        name: fc.constantFrom('web', 'job-1'),
        labels: fc.dictionary(fc.constantFrom('app', 'tier', 'a/b'), fc.string({ maxLength: 4 }), { maxKeys: 2 }),
        annotations: fc.dictionary(fc.constantFrom('note', 'example.com/x~y'), fc.string({ maxLength: 4 }), { maxKeys: 2 }),
      },
      { requiredKeys: ['name'] },
    ),
    spec: fc.record(
      {
        containers: containers(['app', 'sidecar-b', 'worker']),
        initContainers: containers(['migrate', 'wait']),
        volumes: fc.uniqueArray(fc.record({ name: fc.constantFrom('data', 'cache', 'tmp'), emptyDir: fc.constant({}) }), {
          maxLength: 2,
          selector: (v) => v.name,
        }),
      },
      { requiredKeys: ['containers'] },
    ),
  },
  { requiredKeys: ['metadata', 'spec'] },
) as fc.Arbitrary<Pod>;

const overridesArb: fc.Arbitrary<PodOverrides> = fc.constantFrom<PodOverrides>(
  { captureMode: 'explicit', excludePorts: [], excludeCidrs: [] },
  { captureMode: 'transparent', excludePorts: [], excludeCidrs: [], excludePortsText: '5432' },
);

t.test('the patch the webhook sends, applied by rfc6902, gives the intended injected pod', async (t) => {
  const template = loadTemplate();
  fc.assert(
    fc.property(podArb, fc.boolean(), overridesArb, (pod, native, overrides) => {
      const config = { ...DEFAULT_INJECTION_CONFIG, image: 'img:1', nativeSidecars: native };
      const intended = injectPod(pod, template, config, { tenant: 't', overrides });
      const patch = createPatch(pod, intended);
      expectSame(applyWithRfc6902(pod, patch), intended, `${overrides.captureMode} native=${native}: not the intended pod`);
    }),
    { seed: 1337, numRuns: 150 },
  );
  t.pass('150 generated pods: rfc6902 applied the patch to the intended pod');
});
