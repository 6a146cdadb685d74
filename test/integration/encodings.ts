// Ways a client can hide a value in a request body, for the inspection
// tests: text encodings applied to a token, content codings and MIME parts
// applied to a whole body, and the lenient inverse a recipient could apply
// to whatever prefix of the body it received.
import http from 'node:http';
import * as zlib from 'node:zlib';

export type TextEncoding = 'base64' | 'base64url' | 'percent' | 'json' | 'form';
export type BodyEncoding = 'gzip' | 'deflate' | 'br' | 'multipart-base64';

export function encodeText(kind: TextEncoding, value: Buffer): Buffer {
  switch (kind) {
    case 'base64':
      return Buffer.from(value.toString('base64'));
    case 'base64url':
      return Buffer.from(value.toString('base64url'));
    case 'percent':
      // Every byte escaped: encodeURIComponent leaves digits alone, an attacker need not.
      return Buffer.from([...value].map((b) => `%${b.toString(16).padStart(2, '0').toUpperCase()}`).join(''));
    case 'json':
      return Buffer.from([...value].map((b) => `\\u${b.toString(16).padStart(4, '0')}`).join(''));
    case 'form':
      return Buffer.from([...value].map((b) => (b === 0x20 ? '+' : `%${b.toString(16).padStart(2, '0')}`)).join(''));
  }
}

export const MULTIPART_BOUNDARY = 'kdlp-test-boundary-7f3a';

export function encodeBody(kind: BodyEncoding, body: Buffer): { body: Buffer; headers: http.OutgoingHttpHeaders } {
  switch (kind) {
    case 'gzip':
      return { body: zlib.gzipSync(body), headers: { 'content-encoding': 'gzip' } };
    case 'deflate':
      return { body: zlib.deflateSync(body), headers: { 'content-encoding': 'deflate' } };
    case 'br':
      return { body: zlib.brotliCompressSync(body), headers: { 'content-encoding': 'br' } };
    case 'multipart-base64': {
      const folded = body.toString('base64').replace(/(.{76})/g, '$1\r\n');
      const text =
        `--${MULTIPART_BOUNDARY}\r\nContent-Disposition: form-data; name="meta"\r\n\r\nupload\r\n` +
        `--${MULTIPART_BOUNDARY}\r\nContent-Disposition: form-data; name="file"; filename="f.txt"\r\n` +
        `Content-Type: text/plain\r\nContent-Transfer-Encoding: base64\r\n\r\n${folded}\r\n--${MULTIPART_BOUNDARY}--\r\n`;
      return { body: Buffer.from(text), headers: { 'content-type': `multipart/form-data; boundary=${MULTIPART_BOUNDARY}` } };
    }
  }
}

/** What a recipient can recover from a (possibly cut) body that was encoded with `kind`. */
export function decodeReceived(kind: BodyEncoding | undefined, received: Buffer): Buffer {
  if (kind === undefined || received.length === 0) return received;
  const partial = { finishFlush: zlib.constants.Z_SYNC_FLUSH };
  try {
    switch (kind) {
      case 'gzip':
        return zlib.gunzipSync(received, partial);
      case 'deflate':
        return zlib.inflateSync(received, partial);
      case 'br':
        return zlib.brotliDecompressSync(received, { finishFlush: zlib.constants.BROTLI_OPERATION_FLUSH });
      case 'multipart-base64': {
        const text = received.toString('latin1');
        const at = text.indexOf('base64\r\n\r\n');
        if (at < 0) return Buffer.alloc(0);
        const chars = text.slice(at + 10).replace(/\r\n--[\s\S]*$/, '').replace(/[^A-Za-z0-9+/]/g, '');
        return Buffer.from(chars.slice(0, chars.length - (chars.length % 4)), 'base64');
      }
    }
  } catch {
    // A cut stream that does not even decode partially reveals nothing.
    return Buffer.alloc(0);
  }
}

/**
 * Apply `layers` in order (the first is innermost): a multipart wrapper may
 * only come first, content codings stack into one Content-Encoding list in
 * the order they were applied, as RFC 9110 has it.
 */
export function encodeBodyLayers(layers: readonly BodyEncoding[], body: Buffer): { body: Buffer; headers: http.OutgoingHttpHeaders } {
  const headers: http.OutgoingHttpHeaders = {};
  const codings: string[] = [];
  let out = body;
  layers.forEach((layer, i) => {
    if (layer === 'multipart-base64' && i > 0) throw new Error('a multipart wrapper can only be the innermost layer');
    const step = encodeBody(layer, out);
    out = step.body;
    if (step.headers['content-encoding']) codings.push(String(step.headers['content-encoding']));
    if (step.headers['content-type']) headers['content-type'] = step.headers['content-type'];
  });
  if (codings.length > 0) headers['content-encoding'] = codings.join(', ');
  return { body: out, headers };
}

/** What a recipient can recover from a (possibly cut) body encoded with `layers`: each undone leniently, outermost first. */
export function decodeReceivedLayers(layers: readonly BodyEncoding[], received: Buffer): Buffer {
  return [...layers].reverse().reduce((data, layer) => decodeReceived(layer, data), received);
}

export interface SendStep {
  data: Buffer;
  pauseMs: number;
}

export interface SendResult {
  status?: number;
  body?: Buffer;
  /** The connection failed before a response (the proxy cut it). */
  error?: string;
}

/**
 * POST `steps` through the proxy with Content-Length, pausing between
 * writes; tolerates the proxy answering or cutting the connection early.
 */
export function sendThroughProxy(proxyPort: number, url: string, headers: http.OutgoingHttpHeaders, steps: SendStep[]): Promise<SendResult> {
  const total = steps.reduce((n, s) => n + s.data.length, 0);
  return new Promise((resolve) => {
    let settled = false;
    const done = (r: SendResult): void => {
      if (settled) return;
      settled = true;
      resolve(r);
    };
    const req = http.request(
      { host: '127.0.0.1', port: proxyPort, method: 'POST', path: url, headers: { ...headers, 'content-length': total }, agent: false },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => done({ status: res.statusCode, body: Buffer.concat(chunks) }));
        res.on('error', () => done({ status: res.statusCode, error: 'response cut' }));
      },
    );
    req.on('error', (err) => done({ error: (err as NodeJS.ErrnoException).code ?? err.message }));
    void (async () => {
      for (const step of steps) {
        if (settled || req.destroyed) return;
        if (!req.write(step.data)) await new Promise<void>((r) => req.once('drain', r).once('close', r));
        if (step.pauseMs > 0) await new Promise((r) => setTimeout(r, step.pauseMs));
      }
      if (!req.destroyed) req.end();
    })();
  });
}
