// Hop-by-hop headers never cross the proxy; end-to-end ones do, unchanged.
import t from 'tap';
import { endToEndRequestHeaders, endToEndResponseHeaders } from '../../proxy/http/hop-by-hop';
import { classifyClientError } from '../../proxy/http/client-errors';

t.test('request headers', async (t) => {
  const out = endToEndRequestHeaders({
    host: 'a',
    connection: 'keep-alive, X-Trace',
    'x-trace': '1',
    'proxy-authorization': 'Basic abc',
    'proxy-connection': 'keep-alive',
    'keep-alive': 'timeout=5',
    'transfer-encoding': 'chunked',
    te: 'trailers',
    expect: '100-continue',
    upgrade: 'websocket',
    authorization: 'Bearer t',
    cookie: 'a=b',
    'content-type': 'application/json',
  });
  t.same(out, { host: 'a', authorization: 'Bearer t', cookie: 'a=b', 'content-type': 'application/json' });
});

t.test('response headers', async (t) => {
  const out = endToEndResponseHeaders({
    connection: 'close',
    'keep-alive': 'timeout=5',
    'transfer-encoding': 'chunked',
    'set-cookie': ['a=1', 'b=2'],
    'content-type': 'text/plain',
  });
  t.same(out, { 'set-cookie': ['a=1', 'b=2'], 'content-type': 'text/plain' });
});

t.test('parser errors map to a status and a bounded reason', async (t) => {
  const err = (code: string, message = 'Parse Error') => Object.assign(new Error(message), { code });
  t.same(classifyClientError(err('HPE_HEADER_OVERFLOW')), { status: 431, reason: 'header_too_large' });
  t.same(classifyClientError(err('HPE_INVALID_CHUNK_SIZE')), { status: 400, reason: 'invalid_chunked' });
  t.same(classifyClientError(err('HPE_INVALID_CONTENT_LENGTH', "Content-Length can't be present with Transfer-Encoding")), {
    status: 400,
    reason: 'conflicting_length',
  });
  t.same(classifyClientError(err('HPE_INVALID_TRANSFER_ENCODING', "Transfer-Encoding can't be present with Content-Length")), {
    status: 400,
    reason: 'conflicting_length',
  });
  t.same(classifyClientError(err('HPE_INVALID_CONTENT_LENGTH', 'Invalid character in Content-Length')), {
    status: 400,
    reason: 'invalid_content_length',
  });
  t.same(classifyClientError(err('ERR_HTTP_REQUEST_TIMEOUT')), { status: 408, reason: 'timeout' });
  t.same(classifyClientError(err('HPE_INVALID_METHOD')), { status: 400, reason: 'malformed' });
  t.equal(classifyClientError(err('ECONNRESET')), undefined, 'a reset is not answered');
});
