// Parsing of request targets into destinations: absolute-form for HTTP,
// authority-form for CONNECT, and the refusals (origin-form, userinfo, https).
import t from 'tap';
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

t.test('formatHostPort brackets IPv6', async (t) => {
  t.equal(formatHostPort({ host: 'a.example', port: 80 }), 'a.example:80');
  t.equal(formatHostPort({ host: '::1', port: 80 }), '[::1]:80');
});
