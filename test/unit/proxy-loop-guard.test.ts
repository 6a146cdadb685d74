// The proxy refuses requests addressed to itself, by address and by Via.
import t from 'tap';
import { LoopGuard } from '../../proxy/http/loop-guard';

t.test('own listen addresses are loops, other ports are not', async (t) => {
  const guard = new LoopGuard('kube-dlp-test');
  guard.addListenAddress({ host: '127.0.0.1', port: 15001 });
  guard.addListenAddress({ host: '127.0.0.1', port: 15090 });
  t.ok(guard.isSelf({ host: '127.0.0.1', port: 15001 }));
  t.ok(guard.isSelf({ host: 'localhost', port: 15001 }));
  t.ok(guard.isSelf({ host: '127.0.0.2', port: 15090 }), 'any loopback address reaches a loopback listener');
  t.notOk(guard.isSelf({ host: '127.0.0.1', port: 8080 }));
  t.notOk(guard.isSelf({ host: 'example.com', port: 15001 }));
});

t.test('a wildcard listener is reached through any local address', async (t) => {
  const guard = new LoopGuard('kube-dlp-test');
  guard.addListenAddress({ host: '0.0.0.0', port: 15001 });
  t.ok(guard.isSelf({ host: '127.0.0.1', port: 15001 }));
  t.ok(guard.isSelf({ host: '0.0.0.0', port: 15001 }));
  t.notOk(guard.isSelf({ host: '203.0.113.9', port: 15001 }));
});

t.test('every spelling of a loopback or own address is a loop', async (t) => {
  const guard = new LoopGuard('kube-dlp-test');
  guard.addListenAddress({ host: '127.0.0.1', port: 15001 });
  guard.addListenAddress({ host: '2001:DB8:0:0::7', port: 15002 });
  for (const host of ['::ffff:127.0.0.1', '::ffff:7f00:1', '0:0:0:0:0:ffff:7f00:2', '0:0:0:0:0:0:0:1', '::1']) {
    t.ok(guard.isSelf({ host, port: 15001 }), host);
  }
  t.ok(guard.isSelf({ host: '2001:db8::7', port: 15002 }), 'an IPv6 listen address however it was written');
  t.notOk(guard.isSelf({ host: '::ffff:cb00:7109', port: 15001 }), '203.0.113.9, mapped, is not local');
});

t.test('our Via token marks a request that already went through this proxy', async (t) => {
  const guard = new LoopGuard('kube-dlp-abc123');
  t.equal(guard.viaEntry('1.1'), '1.1 kube-dlp-abc123');
  t.ok(guard.seenBefore('1.0 corp-proxy, 1.1 kube-dlp-abc123'));
  t.ok(guard.seenBefore(['1.1 other', '1.1 kube-dlp-abc123']));
  t.notOk(guard.seenBefore('1.1 kube-dlp-ffffff'), 'another kube-dlp instance is not a loop');
  t.notOk(guard.seenBefore(undefined));
  t.not(new LoopGuard().viaToken, new LoopGuard().viaToken, 'tokens are per instance');
});
