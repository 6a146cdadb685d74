// Requests on a decrypted connection go to the tunnel's host whatever they
// say; a Host (or absolute target) naming another authority is refused with
// 421. The same host written another way is the same authority.
import t from 'tap';
import { interceptedTarget, type InterceptedTargetOrigin } from '../../proxy/tls/intercepted-request';
import { TargetError } from '../../proxy/http/errors';
import { parseConnectTarget } from '../../proxy/http/destination';

function originOf(connect: string, scheme: 'https' | 'http' = 'https'): InterceptedTargetOrigin {
  const dest = parseConnectTarget(connect);
  return { host: dest.host, port: dest.port, scheme, requests: 0 };
}

function misdirected(fn: () => unknown): boolean {
  try {
    fn();
    return false;
  } catch (err) {
    return err instanceof TargetError && err.status === 421;
  }
}

t.test('the same authority in any spelling is accepted, and the destination is always the tunnel', async (t) => {
  const cases: Array<[string, string]> = [
    ['api.example.com:443', 'API.Example.COM'],
    ['api.example.com:443', 'api.example.com.:443'],
    ['[::ffff:127.0.0.1]:8443', '[::ffff:7f00:1]:8443'],
    ['[::ffff:127.0.0.1]:8443', '[0:0:0:0:0:FFFF:127.0.0.1]:8443'],
    ['[2001:db8::1]:443', '[2001:DB8:0:0:0:0:0:1]'],
  ];
  for (const [connect, host] of cases) {
    const origin = originOf(connect);
    const target = interceptedTarget(origin, '/v1/x?q=1', host);
    t.same(target, { destination: { host: origin.host, port: origin.port, scheme: 'https' }, path: '/v1/x?q=1' }, `${connect} with Host ${host}`);
  }
});

t.test('another host, another port, or another address is misdirected', async (t) => {
  const cases: Array<[string, string]> = [
    ['api.example.com:443', 'other.example.com'],
    ['api.example.com:443', 'api.example.com:8443'],
    ['[::ffff:127.0.0.1]:8443', '[::ffff:127.0.0.2]:8443'],
    ['[::ffff:127.0.0.1]:8443', '127.0.0.1:8443'],
    ['[2001:db8::1]:443', '[2001:db8::2]'],
  ];
  for (const [connect, host] of cases) {
    t.ok(misdirected(() => interceptedTarget(originOf(connect), '/', host)), `${connect} with Host ${host}`);
  }
  t.ok(misdirected(() => interceptedTarget(originOf('api.example.com:443'), 'https://evil.example/x', undefined)), 'absolute target naming another host');
});
