import t from 'tap';
import { EventEmitter } from 'node:events';
import type tls from 'node:tls';
import { UpstreamSessions } from '../../proxy/tls/upstream-sessions';

/** Just enough of a TLSSocket: a session now (TLS 1.2) and 'session' events later (TLS 1.3 tickets). */
function fakeSocket(current?: Buffer): tls.TLSSocket & EventEmitter {
  const s = new EventEmitter() as tls.TLSSocket & EventEmitter;
  (s as unknown as { getSession(): Buffer | undefined }).getSession = () => current;
  return s;
}

t.test('keys separate roots, addresses, ports and server names', async (t) => {
  const sessions = new UpstreamSessions();
  const rootsA = {};
  const rootsB = {};
  const k = sessions.keyFor(rootsA, '10.0.0.1', 443, 'api.example.com');
  t.equal(sessions.keyFor(rootsA, '10.0.0.1', 443, 'api.example.com'), k, 'stable for the same roots object');
  t.not(sessions.keyFor(rootsB, '10.0.0.1', 443, 'api.example.com'), k, 'a session verified under other roots is never offered');
  t.not(sessions.keyFor(rootsA, '10.0.0.2', 443, 'api.example.com'), k);
  t.not(sessions.keyFor(rootsA, '10.0.0.1', 8443, 'api.example.com'), k);
  t.not(sessions.keyFor(rootsA, '10.0.0.1', 443, undefined), k);
});

t.test('remembers the current session and later tickets, newest wins', async (t) => {
  const sessions = new UpstreamSessions();
  const socket = fakeSocket(Buffer.from('tls12'));
  sessions.track('a', socket);
  t.same(sessions.get('a'), Buffer.from('tls12'));
  socket.emit('session', Buffer.from('ticket-2'));
  t.same(sessions.get('a'), Buffer.from('ticket-2'));
  sessions.forget('a');
  t.equal(sessions.get('a'), undefined, 'forgotten after a failed resumption');
  t.equal(sessions.get('never'), undefined);
});

t.test('bounded: the least recently used upstream goes first', async (t) => {
  const sessions = new UpstreamSessions(2);
  sessions.track('a', fakeSocket(Buffer.from('A')));
  sessions.track('b', fakeSocket(Buffer.from('B')));
  t.ok(sessions.get('a'), 'a used: b is now the oldest');
  sessions.track('c', fakeSocket(Buffer.from('C')));
  t.equal(sessions.size, 2);
  t.equal(sessions.get('b'), undefined);
  t.ok(sessions.get('a'));
  t.ok(sessions.get('c'));
});
