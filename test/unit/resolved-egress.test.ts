// Issue #11 finding 6, the pure half: a destination known by a name and every
// address it resolved to is denied when any identity is denied, and the
// address to connect to is one the decision allowed. The lookup itself is
// one call, bounded in time, and never leaks the name into its errors.
import t from 'tap';
import fc from 'fast-check';
import { compileEgressPolicy } from '../../proxy/policy/egress';
import { decideResolvedEgress } from '../../proxy/policy/resolved-egress';
import { resolveAll, type NameResolver } from '../../proxy/http/name-resolver';
import { UpstreamError } from '../../proxy/http/errors';
import type { EgressSpec } from '../../proxy/profile/schema';

function policy(spec: Partial<EgressSpec>) {
  return compileEgressPolicy({ default: 'Allow', allow: [], deny: [], ...spec });
}
const METADATA = '169.254.169.254';
const sampleDeny = policy({ deny: [{ cidr: '169.254.169.254/32' }, { cidr: '127.0.0.0/8' }] });
const dest = (name: string, addresses: string[]) => ({ name, addresses, port: 80, scheme: 'http' as const });

t.test('a name resolving to the metadata address is denied, wherever that address sits in the answer', async (t) => {
  for (const addresses of [[METADATA], ['203.0.113.7', METADATA], [METADATA, '203.0.113.7']]) {
    const { decision } = decideResolvedEgress(sampleDeny, dest('innocent.example', addresses), true);
    t.equal(decision.allowed, false, addresses.join(','));
    t.equal(decision.reason, 'denylist');
    t.match(decision.rule, /169\.254\.169\.254/);
  }
});

t.test('localhost is judged by its loopback address', async (t) => {
  const { decision } = decideResolvedEgress(sampleDeny, dest('localhost', ['127.0.0.1', '::1']), true);
  t.equal(decision.allowed, false);
});

t.test('a denied name is denied whatever it resolves to', async (t) => {
  const p = policy({ deny: [{ host: 'pastebin.com' }] });
  t.equal(decideResolvedEgress(p, dest('pastebin.com', ['203.0.113.9']), true).decision.allowed, false);
});

t.test('default deny: an allowlisted name may use any address; a CIDR allowlist picks the allowed address', async (t) => {
  const byName = policy({ default: 'Deny', allow: [{ host: 'api.vendor.io' }] });
  const r1 = decideResolvedEgress(byName, dest('api.vendor.io', ['203.0.113.1', '198.51.100.2']), true);
  t.equal(r1.decision.allowed, true);
  t.equal(r1.decision.reason, 'allowlist');
  t.equal(r1.address, '203.0.113.1', 'the first address, in resolver order');

  const byCidr = policy({ default: 'Deny', allow: [{ cidr: '10.0.0.0/8' }] });
  const r2 = decideResolvedEgress(byCidr, dest('svc.internal', ['203.0.113.1', '10.1.2.3']), true);
  t.equal(r2.decision.allowed, true);
  t.equal(r2.address, '10.1.2.3', 'connects to the address the allow was for, not the first one');

  const r3 = decideResolvedEgress(byCidr, dest('elsewhere.example', ['203.0.113.1']), true);
  t.equal(r3.decision.allowed, false);
  t.equal(r3.decision.reason, 'default-deny');
});

t.test('property: a denied address anywhere in the answer always denies, and an allowed result names an address of the answer', async (t) => {
  const octet = fc.integer({ min: 0, max: 255 });
  const address = fc.tuple(octet, octet, octet, octet).map((o) => o.join('.'));
  fc.assert(
    fc.property(fc.array(address, { minLength: 1, maxLength: 6 }), fc.nat(6), (addresses, at) => {
      const withMetadata = [...addresses];
      withMetadata.splice(at % (addresses.length + 1), 0, METADATA);
      const denied = decideResolvedEgress(sampleDeny, dest('n.example', withMetadata), true);
      if (denied.decision.allowed) return false;
      const plain = decideResolvedEgress(sampleDeny, dest('n.example', addresses), true);
      const anyLoopback = addresses.some((a) => a.startsWith('127.') || a === METADATA);
      return plain.decision.allowed === !anyLoopback && addresses.includes(plain.address);
    }),
    { seed: 1111, numRuns: 300 },
  );
});

t.test('resolveAll: one lookup, all addresses; literals need none', async (t) => {
  const calls: string[] = [];
  const resolver: NameResolver = async (name) => {
    calls.push(name);
    return ['198.51.100.1', '2001:db8::1'];
  };
  t.same(await resolveAll('multi.example', resolver, 1000), ['198.51.100.1', '2001:db8::1']);
  t.same(await resolveAll('10.0.0.1', resolver, 1000), ['10.0.0.1']);
  t.same(await resolveAll('::1', resolver, 1000), ['::1']);
  t.same(calls, ['multi.example']);
});

t.test('resolveAll: failures are 502/504 UpstreamErrors that do not repeat the name', async (t) => {
  const secretName = '4111111111111111.attacker.example';
  const notFound: NameResolver = async () => {
    throw Object.assign(new Error(`getaddrinfo ENOTFOUND ${secretName}`), { code: 'ENOTFOUND' });
  };
  const err1 = await resolveAll(secretName, notFound, 1000).catch((e: unknown) => e);
  t.ok(err1 instanceof UpstreamError);
  t.equal((err1 as UpstreamError).status, 502);
  t.equal((err1 as UpstreamError).code, 'KDLP_UPSTREAM_UNRESOLVED');
  t.equal((err1 as UpstreamError).message, 'destination name did not resolve (ENOTFOUND)');

  const empty: NameResolver = async () => ['not-an-address'];
  const err2 = await resolveAll('x.example', empty, 1000).catch((e: unknown) => e);
  t.equal((err2 as UpstreamError).code, 'KDLP_UPSTREAM_UNRESOLVED');

  const hang: NameResolver = () => new Promise(() => undefined);
  const err3 = await resolveAll('slow.example', hang, 50).catch((e: unknown) => e);
  t.equal((err3 as UpstreamError).status, 504);
});

t.test('the system resolver answers localhost with a loopback address', async (t) => {
  const { systemResolver } = await import('../../proxy/http/name-resolver');
  const addresses = await resolveAll('localhost', systemResolver, 5000);
  t.ok(addresses.length >= 1);
  t.ok(addresses.every((a) => a.startsWith('127.') || a === '::1'), addresses.join(','));
});
