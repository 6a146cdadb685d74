// canonicalJson, the one serialisation content hashes are computed over (the
// sidecar's profile version, the operator's informer views): key order and
// undefined members never change the bytes; anything else does.
import t from 'tap';
import fc from 'fast-check';
import { canonicalJson } from '../../proxy/profile/canonical-json';

const reorder = (value: unknown): unknown => {
  if (Array.isArray(value)) return value.map(reorder);
  if (value !== null && typeof value === 'object') {
    return Object.fromEntries(Object.entries(value as Record<string, unknown>).reverse().map(([k, v]) => [k, reorder(v)]));
  }
  return value;
};

t.test('key order does not matter; the value survives a round trip', async (t) => {
  fc.assert(
    fc.property(fc.jsonValue({ maxDepth: 4 }), (value) => {
      const text = canonicalJson(value);
      t.equal(canonicalJson(reorder(value)), text);
      t.same(JSON.parse(text), JSON.parse(JSON.stringify(value)));
    }),
    { seed: 18, numRuns: 200 },
  );
});

t.test('examples: sorted keys, undefined members dropped, arrays keep their order', async (t) => {
  t.equal(canonicalJson({ b: 1, a: [2, 1], c: undefined, d: { z: null, y: 'x' } }), '{"a":[2,1],"b":1,"d":{"y":"x","z":null}}');
  t.not(canonicalJson({ a: [1, 2] }), canonicalJson({ a: [2, 1] }));
  t.not(canonicalJson({ a: 1 }), canonicalJson({ a: '1' }));
});
