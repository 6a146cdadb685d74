// listen(), the one way kube-dlp's servers bind: the bound port back, and a
// bind failure as a rejection (not an 'error' event nobody listens to).
import t from 'tap';
import net from 'node:net';
import { listen } from '../../proxy/http/listen';

t.test('resolves with the port the kernel picked for port 0', async (t) => {
  const server = net.createServer();
  t.teardown(() => server.close());
  const port = await listen(server, { port: 0, host: '127.0.0.1' });
  t.ok(port > 0);
  t.equal(server.listenerCount('error'), 0, 'no error listener left behind');
  const socket = net.connect(port, '127.0.0.1');
  await new Promise<void>((resolve, reject) => socket.once('connect', resolve).once('error', reject));
  socket.destroy();
});

t.test('a port in use rejects with EADDRINUSE', async (t) => {
  const first = net.createServer();
  const second = net.createServer();
  t.teardown(() => {
    first.close();
    second.close();
  });
  const port = await listen(first, { port: 0, host: '127.0.0.1' });
  await t.rejects(listen(second, { port, host: '127.0.0.1' }), { code: 'EADDRINUSE' });
  t.equal(second.listenerCount('error'), 0);
});
