// `Upgrade: h2c` is declined, not refused: the request is answered over
// HTTP/1.1 as though the offer were absent (RFC 7540 §3.2), with the usual
// inspection. Java's HttpClient sends the offer on every http:// request by
// default and curl --http2 does too; a 505 broke them. Explicit (absolute
// form, raw bytes as a client would send them) and captured (curl --http2
// whose TCP lands on the proxy port, original destination given by the test).
import t, { type Test } from 'tap';
import { execFile } from 'node:child_process';
import type { OriginalDestination } from '../../proxy/transparent/original-destination';
import { CARD, protectProfile, rawExchange, startTestProxy, startUpstream, statusOf, type TestProxy, type Upstream } from './proxy-harness';

const OFFER = 'Connection: Upgrade, HTTP2-Settings\r\nUpgrade: h2c\r\nHTTP2-Settings: AAMAAABkAARAAAAAAAIAAAAA\r\n';

async function upstream(t: Test): Promise<Upstream> {
  const u = await startUpstream();
  t.teardown(() => u.close());
  return u;
}

async function proxy(t: Test, opts: Parameters<typeof startTestProxy>[1] = {}): Promise<TestProxy> {
  const p = await startTestProxy(protectProfile(), opts);
  t.teardown(() => p.stop());
  return p;
}

t.test('explicit: a GET offering h2c is answered over HTTP/1.1; the upstream never sees the offer', async (t) => {
  const up = await upstream(t);
  const p = await proxy(t);
  const answer = await rawExchange(p.port, `GET http://127.0.0.1:${up.port}/plain?x=1 HTTP/1.1\r\nHost: 127.0.0.1:${up.port}\r\nAccept: */*\r\n${OFFER}\r\n`, 500);
  t.equal(statusOf(answer), 200, answer.slice(0, 200));
  t.notMatch(answer, /^HTTP\/1\.1 101/, 'no switch');
  t.equal(up.requests.length, 1);
  const seen = up.requests[0]!;
  t.equal(seen.url, '/plain?x=1');
  t.equal(seen.headers.upgrade, undefined, 'no Upgrade upstream');
  t.equal(seen.headers['http2-settings'], undefined, 'no HTTP2-Settings upstream');
  t.notMatch(String(seen.headers.connection ?? ''), /upgrade|http2-settings/i);
  t.equal(seen.headers.accept, '*/*', 'the other headers as sent');
  t.equal(await p.metric('kubedlp_bad_requests_total', { reason: 'http2_cleartext' }), 0, 'not a bad request any more');
});

t.test('explicit: a POST offering h2c is inspected like any: a card is refused, the upstream sees nothing', async (t) => {
  const up = await upstream(t);
  const p = await proxy(t);
  const body = JSON.stringify({ card: CARD });
  const answer = await rawExchange(
    p.port,
    `POST http://127.0.0.1:${up.port}/pay HTTP/1.1\r\nHost: 127.0.0.1:${up.port}\r\nContent-Type: application/json\r\nContent-Length: ${body.length}\r\n${OFFER}\r\n${body}`,
    500,
  );
  t.equal(statusOf(answer), 403, answer.slice(0, 200));
  t.match(answer, /"error":"blocked"/);
  t.equal(up.requests.length, 0);
});

t.test('captured: curl --http2 on http:// (an h2c offer) gets its answers over HTTP/1.1, twice on one connection', async (t) => {
  const up = await upstream(t);
  const original: OriginalDestination = { address: '127.0.0.1', port: up.port, family: 4 };
  const p = await proxy(t, { mode: 'transparent', transparent: { readOriginal: () => original, timeouts: { sniffMs: 10_000 } } });
  const out = await new Promise<{ stdout: string; stderr: string }>((resolve) => {
    execFile(
      'curl',
      ['-sS', '--max-time', '10', '--noproxy', '*', '--http2', '--connect-to', `app.example:${up.port}:127.0.0.1:${p.port}`, '-o', '/dev/null', '-o', '/dev/null', '-w', '%{http_version} %{http_code} %{num_connects}\n', `http://app.example:${up.port}/one`, `http://app.example:${up.port}/two`],
      { env: { PATH: process.env.PATH ?? '' } },
      (_err, stdout, stderr) => resolve({ stdout, stderr }),
    );
  });
  t.same(out.stdout.trim().split('\n'), ['1.1 200 1', '1.1 200 0'], `HTTP/1.1 answers, the second on the same connection ${out.stderr}`);
  t.same(
    up.requests.map((r) => [r.url, r.headers.upgrade, r.headers.host]),
    [
      ['/one', undefined, `app.example:${up.port}`],
      ['/two', undefined, `app.example:${up.port}`],
    ],
  );
});
