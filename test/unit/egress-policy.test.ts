import t from 'tap';
import fc from 'fast-check';
import { BlockList } from 'node:net';
import { compileEgressPolicy, EgressRuleError, EGRESS_REASONS, type Destination } from '../../proxy/policy/egress';
import type { EgressSpec } from '../../proxy/profile/schema';

const https = (host: string, port = 443): Destination => ({ host, port, scheme: 'https' });

function policy(spec: Partial<EgressSpec>) {
  return compileEgressPolicy({ default: 'Allow', allow: [], deny: [], ...spec });
}

t.test('host globs', async (t) => {
  const p = policy({ default: 'Deny', allow: [{ host: '*.example.com' }, { host: 'api.vendor.io' }] });
  const cases: [string, boolean, string][] = [
    ['a.example.com', true, 'allowlist'],
    ['deep.a.example.com', true, 'allowlist'],
    ['example.com', false, 'default-deny'], // glob matches sub-domains only
    ['badexample.com', false, 'default-deny'],
    ['example.com.evil.net', false, 'default-deny'],
    ['A.EXAMPLE.COM', true, 'allowlist'],
    ['a.example.com.', true, 'allowlist'], // trailing dot ignored
    ['api.vendor.io', true, 'allowlist'],
    ['API.Vendor.IO.', true, 'allowlist'],
    ['x.api.vendor.io', false, 'default-deny'], // exact host does not match sub-domains
    ['vendor.io', false, 'default-deny'],
  ];
  for (const [host, allowed, reason] of cases) {
    const d = p.decide(https(host));
    t.equal(d.allowed, allowed, `${host} allowed=${allowed}`);
    t.equal(d.reason, reason, `${host} reason`);
  }
  t.equal(p.decide(https('a.example.com')).rule, 'allow[0] host=*.example.com');
  t.equal(p.decide(https('api.vendor.io')).rule, 'allow[1] host=api.vendor.io');
});

t.test('rule hosts are normalised like destinations', async (t) => {
  const p = policy({ default: 'Deny', allow: [{ host: 'API.Example.COM.' }, { host: 'bücher.example' }] });
  t.ok(p.decide(https('api.example.com')).allowed);
  t.ok(p.decide(https('xn--bcher-kva.example')).allowed, 'IDN rule matches the punycode destination');
  t.ok(p.decide(https('BÜCHER.example')).allowed, 'and the unicode one');
});

t.test('IPv4 CIDRs', async (t) => {
  const p = policy({ default: 'Deny', allow: [{ cidr: '10.0.0.0/8' }, { cidr: '192.168.1.7' }] });
  t.ok(p.decide(https('10.1.2.3')).allowed);
  t.equal(p.decide(https('10.1.2.3')).rule, 'allow[0] cidr=10.0.0.0/8');
  t.notOk(p.decide(https('11.0.0.1')).allowed);
  t.ok(p.decide(https('192.168.1.7')).allowed, 'bare address is a /32');
  t.notOk(p.decide(https('192.168.1.8')).allowed);
  t.ok(p.decide(https('::ffff:10.9.9.9')).allowed, 'IPv4-mapped IPv6 matches the IPv4 network');
  t.notOk(p.decide(https('ten.example.com')).allowed, 'names never match CIDRs (no DNS)');
});

t.test('IPv6 CIDRs, bracketed literals', async (t) => {
  const p = policy({ default: 'Deny', allow: [{ cidr: 'fd00::/8' }, { cidr: '2001:db8::1/128' }] });
  t.ok(p.decide(https('fd12:3456::1')).allowed);
  t.ok(p.decide(https('[fd12:3456::1]')).allowed, 'brackets of a URL authority are stripped');
  t.ok(p.decide(https('2001:DB8:0:0::1')).allowed, 'any spelling of the address');
  t.notOk(p.decide(https('2001:db8::2')).allowed);
  t.notOk(p.decide(https('fe80::1')).allowed);
});

t.test('numeric host shorthands cannot dodge a CIDR deny', async (t) => {
  const p = policy({ default: 'Allow', deny: [{ cidr: '127.0.0.0/8' }, { cidr: '169.254.169.254/32' }] });
  for (const host of ['127.0.0.1', '2130706433', '0x7f.1', '127.1', '0177.0.0.1']) {
    const d = p.decide(https(host));
    t.equal(d.reason, 'denylist', `${host} is loopback`);
  }
  t.equal(p.decide(https('2852039166')).reason, 'denylist', 'metadata address as a decimal integer');
  t.equal(p.decide(https('cafe.de')).reason, 'default-allow', 'hex-looking names stay names');
});

t.test('ports: single, ranges, strings', async (t) => {
  const p = policy({
    default: 'Deny',
    allow: [
      { host: 'svc.example.com', ports: [443, '8000-8080', '9443'] },
      { cidr: '10.0.0.0/8', ports: [5432] },
    ],
  });
  t.ok(p.decide(https('svc.example.com', 443)).allowed);
  t.ok(p.decide(https('svc.example.com', 8000)).allowed, 'range start inclusive');
  t.ok(p.decide(https('svc.example.com', 8080)).allowed, 'range end inclusive');
  t.ok(p.decide(https('svc.example.com', 9443)).allowed, 'port given as a string');
  t.notOk(p.decide(https('svc.example.com', 8081)).allowed);
  t.notOk(p.decide(https('svc.example.com', 80)).allowed);
  t.ok(p.decide(https('10.2.3.4', 5432)).allowed);
  t.notOk(p.decide(https('10.2.3.4', 5433)).allowed);
  t.equal(p.decide(https('svc.example.com', 8000)).rule, 'allow[0] host=svc.example.com ports=443,8000-8080,9443');
});

t.test('port-only rules apply to every host', async (t) => {
  const p = policy({ default: 'Allow', deny: [{ ports: [25, '6660-6669'] }] });
  t.equal(p.decide(https('mail.example.com', 25)).reason, 'denylist');
  t.equal(p.decide(https('10.0.0.1', 6667)).reason, 'denylist');
  t.equal(p.decide(https('mail.example.com', 587)).reason, 'default-allow');
});

t.test('explicit deny beats allow', async (t) => {
  const p = policy({
    default: 'Deny',
    allow: [{ host: '*.example.com' }, { cidr: '10.0.0.0/8' }],
    deny: [{ host: 'paste.example.com' }, { cidr: '10.66.0.0/16' }],
  });
  t.same(p.decide(https('paste.example.com')), { allowed: false, reason: 'denylist', rule: 'deny[0] host=paste.example.com' });
  t.equal(p.decide(https('docs.example.com')).reason, 'allowlist');
  t.same(p.decide(https('10.66.1.1')), { allowed: false, reason: 'denylist', rule: 'deny[1] cidr=10.66.0.0/16' });
  t.equal(p.decide(https('10.65.1.1')).reason, 'allowlist');
});

t.test('default Allow / Deny', async (t) => {
  const allowAll = policy({ default: 'Allow', deny: [{ host: 'pastebin.com' }] });
  t.same(allowAll.decide(https('anything.net')), { allowed: true, reason: 'default-allow' });
  t.same(allowAll.decide(https('pastebin.com')), { allowed: false, reason: 'denylist', rule: 'deny[0] host=pastebin.com' });
  const denyAll = policy({ default: 'Deny' });
  t.same(denyAll.decide(https('anything.net')), { allowed: false, reason: 'default-deny' });
  t.same(compileEgressPolicy(undefined).decide(https('x.net')), { allowed: true, reason: 'default-allow' }, 'no egress section: allow');
});

t.test('the first matching rule is reported', async (t) => {
  const p = policy({ default: 'Deny', allow: [{ host: '*.example.com' }, { host: 'a.example.com' }, { ports: [443] }] });
  t.equal(p.decide(https('a.example.com')).rule, 'allow[0] host=*.example.com');
  t.equal(p.decide(https('other.net')).rule, 'allow[2] ports=443');
});

t.test('uninspectable traffic', async (t) => {
  const deny = policy({ default: 'Allow', uninspectable: 'Deny', allow: [{ host: 'pinned.example.com' }, { host: 'bank.example.com', allowUninspectable: true }] });
  t.same(deny.decide(https('x.net'), { inspectable: false }), { allowed: false, reason: 'uninspectable-denied' });
  t.same(deny.decide(https('x.net'), { inspectable: true }), { allowed: true, reason: 'default-allow' });
  t.same(deny.decide(https('x.net')), { allowed: true, reason: 'default-allow' }, 'inspectable unless told otherwise');
  t.same(
    deny.decide(https('pinned.example.com'), { inspectable: false }),
    { allowed: false, reason: 'uninspectable-denied', rule: 'allow[0] host=pinned.example.com' },
    'a plain allow rule does not exempt from the uninspectable deny',
  );
  t.same(
    deny.decide(https('bank.example.com'), { inspectable: false }),
    { allowed: true, reason: 'allowlist', rule: 'allow[1] host=bank.example.com' },
    'allowUninspectable exempts',
  );

  const both = policy({ default: 'Allow', uninspectable: 'Deny', allow: [{ host: '*.example.com' }, { host: 'bank.example.com', allowUninspectable: true }] });
  t.equal(both.decide(https('bank.example.com'), { inspectable: false }).rule, 'allow[1] host=bank.example.com', 'an exempting rule further down wins for uninspectable traffic');
  t.equal(both.decide(https('bank.example.com'), { inspectable: true }).rule, 'allow[0] host=*.example.com', 'but not for inspectable traffic');

  const allow = policy({ default: 'Allow', uninspectable: 'Allow' });
  t.same(allow.decide(https('x.net'), { inspectable: false }), { allowed: true, reason: 'default-allow' });

  const denyList = policy({ default: 'Allow', uninspectable: 'Deny', deny: [{ host: 'x.net' }] });
  t.equal(denyList.decide(https('x.net'), { inspectable: false }).reason, 'denylist', 'a deny rule is the more specific reason');
  const defaultDeny = policy({ default: 'Deny', uninspectable: 'Deny' });
  t.equal(defaultDeny.decide(https('x.net'), { inspectable: false }).reason, 'default-deny');
});

t.test('reasons are a bounded set', async (t) => {
  const p = policy({ default: 'Deny', uninspectable: 'Deny', allow: [{ host: 'a.example.com' }], deny: [{ host: 'b.example.com' }] });
  const seen = new Set<string>();
  for (const host of ['a.example.com', 'b.example.com', 'c.example.com', '10.0.0.1', `${'x'.repeat(60)}.example.com`]) {
    for (const inspectable of [true, false]) seen.add(p.decide(https(host), { inspectable }).reason);
  }
  for (const r of seen) t.ok((EGRESS_REASONS as readonly string[]).includes(r), `${r} is a known reason`);
});

t.test('invalid rules are rejected at compile time', async (t) => {
  t.throws(() => policy({ allow: [{ host: '*' }] }), EgressRuleError);
  t.throws(() => policy({ allow: [{ host: 'a.*.com' }] }), { code: 'KDLP_EGRESS_RULE_INVALID', rule: 'allow[0]' });
  t.throws(() => policy({ deny: [{ cidr: '10.0.0.0/33' }] }), { code: 'KDLP_EGRESS_RULE_INVALID', rule: 'deny[0]' });
  t.throws(() => policy({ allow: [{ host: 'a.com', ports: [0] }] }), EgressRuleError);
  t.throws(() => policy({ allow: [{ host: 'a.com', ports: ['90-80'] }] }), EgressRuleError);
  t.throws(() => policy({ allow: [{}] }), EgressRuleError);
  t.throws(() => policy({ allow: [{ host: 'a.com', cidr: '10.0.0.0/8' }] }), EgressRuleError);
});

// decide() parses each destination address once and reuses it (a bounded
// cache): the answers must be exactly what a fresh BlockList gives, however
// often and in whatever order addresses repeat, including past the cache's
// size (it is cleared and refilled).
t.test('CIDR decisions match a fresh BlockList across repeats and cache turnover', async (t) => {
  const cidrs: Array<[string, number, 'ipv4' | 'ipv6']> = [
    ['10.0.0.0', 8, 'ipv4'],
    ['192.168.7.0', 24, 'ipv4'],
    ['fd00::', 8, 'ipv6'],
  ];
  const p = policy({ default: 'Allow', deny: cidrs.map(([a, prefix]) => ({ cidr: `${a}/${prefix}` })) });
  const lists = cidrs.map(([a, prefix, f]) => {
    const list = new BlockList();
    list.addSubnet(a, prefix, f);
    return list;
  });
  // check(string): parses the address afresh every time.
  const reference = (address: string, family: 'ipv4' | 'ipv6') => lists.some((list) => list.check(address, family));
  const octet = fc.integer({ min: 0, max: 255 });
  const v4 = fc.tuple(fc.constantFrom(10, 192, 11), fc.constantFrom(168, 0, 1), fc.constantFrom(7, 8, 0), octet).map((o) => o.join('.'));
  const v6 = fc.tuple(fc.constantFrom('fd00', 'fe00', '2001'), fc.integer({ min: 0, max: 0xffff })).map(([h, x]) => `${h}::${x.toString(16)}`);
  fc.assert(
    fc.property(fc.array(fc.oneof(v4, v6), { minLength: 1, maxLength: 2000 }), (addresses) => {
      for (const address of addresses) {
        const family = address.includes(':') ? 'ipv6' : 'ipv4';
        const denied = !p.decide(https(address)).allowed;
        if (denied !== reference(address, family)) return false;
      }
      return true;
    }),
    { seed: 15, numRuns: 20 },
  );
});
