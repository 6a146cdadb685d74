// Parsing of request targets into destinations: absolute-form for HTTP,
// authority-form for CONNECT, and the refusals (origin-form, userinfo, https).
import t from 'tap';
import fc from 'fast-check';
import { isIP } from 'node:net';
import { formatHostPort, parseAbsoluteTarget, parseConnectTarget } from '../../proxy/http/destination';
import { TargetError } from '../../proxy/http/errors';

t.test('absolute-form targets', async (t) => {
  t.same(parseAbsoluteTarget('http://Example.COM/a/b?x=1'), {
    destination: { host: 'example.com', port: 80, scheme: 'http' },
    path: '/a/b?x=1',
  });
  t.same(parseAbsoluteTarget('http://10.0.0.1:8080').destination, { host: '10.0.0.1', port: 8080, scheme: 'http' });
  t.equal(parseAbsoluteTarget('http://10.0.0.1:8080').path, '/');
  t.equal(parseAbsoluteTarget('http://h?q=1').path, '/?q=1');
  t.equal(parseAbsoluteTarget('http://h//double//slash').path, '//double//slash', 'path kept verbatim');
  t.equal(parseAbsoluteTarget('http://h/p#frag').path, '/p', 'fragment dropped');
  t.same(parseAbsoluteTarget('http://[::1]:9000/x').destination, { host: '::1', port: 9000, scheme: 'http' });
  t.equal(parseAbsoluteTarget('http://host.example./x').destination.host, 'host.example', 'trailing dot of an FQDN dropped');
});

t.test('refused targets carry a status and a bounded reason', async (t) => {
  const cases: Array<[string, number, string]> = [
    ['/just/a/path', 400, 'origin_form'],
    ['*', 400, 'origin_form'],
    ['https://secure.example/', 400, 'unsupported_scheme'],
    ['ftp://files.example/', 400, 'unsupported_scheme'],
    ['http://user:pass@example.com/', 400, 'bad_target'],
    ['http://exa mple.com/', 400, 'bad_target'],
    ['http://example.com:99999/', 400, 'bad_target'],
    ['http://example.com:0/', 400, 'bad_target'],
    ['http://[::1/', 400, 'bad_target'],
    ['not a url', 400, 'bad_target'],
  ];
  for (const [target, status, reason] of cases) {
    try {
      parseAbsoluteTarget(target);
      t.fail(`accepted ${target}`);
    } catch (err) {
      t.ok(err instanceof TargetError, target);
      t.equal((err as TargetError).status, status, target);
      t.equal((err as TargetError).reason, reason, target);
    }
  }
});

t.test('userinfo never reaches the error message', async (t) => {
  try {
    parseAbsoluteTarget('http://admin:hunter2@example.com/');
    t.fail('accepted');
  } catch (err) {
    t.notMatch((err as Error).message, /hunter2/);
  }
});

t.test('CONNECT targets need host:port', async (t) => {
  t.same(parseConnectTarget('api.example.com:443'), { host: 'api.example.com', port: 443, scheme: 'tcp' });
  t.same(parseConnectTarget('[2001:db8::1]:8443'), { host: '2001:db8::1', port: 8443, scheme: 'tcp' });
  t.throws(() => parseConnectTarget('api.example.com'), TargetError);
  t.throws(() => parseConnectTarget('api.example.com:'), TargetError);
  t.throws(() => parseConnectTarget(':443'), TargetError);
});

t.test('IPv6 literals: one spelling per address, and only real addresses', async (t) => {
  t.equal(parseConnectTarget('[2001:DB8:0:0:0:0:0:1]:443').host, '2001:db8::1');
  t.equal(parseConnectTarget('[::ffff:10.0.0.1]:443').host, '::ffff:a00:1', 'an IPv4 tail is two hex groups');
  t.equal(parseAbsoluteTarget('http://[0:0:0:0:0:0:0:1]:8080/').destination.host, '::1');
  for (const bogus of ['[:]:443', '[1:2]:443', '[::1::2]:443', '[fe80::1%25eth0]:443', '[1.2.3.4]:443']) {
    t.throws(() => parseConnectTarget(bogus), TargetError, bogus);
  }
});

t.test('formatHostPort brackets IPv6', async (t) => {
  t.equal(formatHostPort({ host: 'a.example', port: 80 }), 'a.example:80');
  t.equal(formatHostPort({ host: '::1', port: 80 }), '[::1]:80');
});

// --- properties: request targets are client bytes ---

const label = fc.stringMatching(/^[a-zA-Z0-9]([a-zA-Z0-9-]{0,20}[a-zA-Z0-9])?$/);
const hostName = fc.array(label, { minLength: 1, maxLength: 5 }).map((ls) => ls.join('.'));
const anyHost = fc.oneof(hostName, fc.ipV4(), fc.ipV6());
const port = fc.integer({ min: 1, max: 65535 });

t.test('property: every host and port, written as a client writes them, parse back to the same destination', async (t) => {
  fc.assert(
    fc.property(anyHost, port, fc.boolean(), (host, p, fqdnDot) => {
      const written = isIP(host) === 0 && fqdnDot ? `${host}.` : host;
      const connect = parseConnectTarget(formatHostPort({ host: written, port: p }));
      const absolute = parseAbsoluteTarget(`http://${formatHostPort({ host: written, port: p })}/x`).destination;
      // IPv6 in its one spelling (lower case, compressed, hex groups only).
      const expected = isIP(host) === 6 ? new URL(`http://[${host}]/`).hostname.slice(1, -1) : host.toLowerCase();
      return connect.host === expected && connect.port === p && absolute.host === expected && absolute.port === p;
    }),
    { numRuns: 1000 },
  );
  t.pass('1,000 destinations round-tripped');
});

t.test('property: any target either parses to a name or an IP address, or is refused with a TargetError', async (t) => {
  const nearTarget = fc.oneof(
    fc.string({ maxLength: 40 }),
    fc.tuple(fc.stringMatching(/^[0-9a-fA-F:.%]{0,24}$/), fc.integer({ min: -1, max: 70000 })).map(([h, p]) => `[${h}]:${p}`),
    fc.tuple(fc.stringMatching(/^[a-z0-9._-]{0,24}$/), fc.integer({ min: -1, max: 70000 })).map(([h, p]) => `${h}:${p}`),
  );
  const valid = (host: string) => isIP(host) !== 0 || (/^[a-z0-9_.-]+$/.test(host) && !host.endsWith('.') && !host.startsWith('.'));
  fc.assert(
    fc.property(nearTarget, (target) => {
      for (const parse of [() => parseConnectTarget(target).host, () => parseAbsoluteTarget(`http://${target}/`).destination.host]) {
        try {
          if (!valid(parse())) return false;
        } catch (err) {
          if (!(err instanceof TargetError)) return false;
        }
      }
      return true;
    }),
    { numRuns: 3000 },
  );
  t.pass('3,000 targets answered');
});
