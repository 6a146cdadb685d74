// Regression tests for issue 11, findings 1-4: what the streaming inspection
// stage must see past the hold-back window, through a real proxy, with a
// recording upstream that keeps every byte it received.
import t, { type Test } from 'tap';
import http from 'node:http';
import { randomBytes } from 'node:crypto';
import { gzipSync } from 'node:zlib';
import { PROFILE_HEADER, startTestProxy, startUpstream, type TestProxy, type Upstream } from './proxy-harness';
import { decodeReceived, encodeBody, encodeText, sendThroughProxy, type BodyEncoding, type SendResult, type TextEncoding } from './encodings';

const CARD = '4111111111111111';
const HOLD_BACK = 65536;

function profile(mode: 'Protect' | 'Monitor', extra = ''): string {
  return `${PROFILE_HEADER}spec:
  mode: ${mode}
  detectors:
    enable: [pci.card-number]
    overrides:
      - { id: pci.card-number, action: block }
  inspection:
    holdBackBytes: ${HOLD_BACK}
    maxBodyBytes: 4194304
${extra}`;
}

let upstream: Upstream;
t.before(async () => {
  upstream = await startUpstream();
});
t.teardown(() => upstream.close());
const url = (path: string) => `http://127.0.0.1:${upstream.port}${path}`;

async function withProxy(yaml: string, fn: (p: TestProxy) => Promise<void>): Promise<void> {
  const proxy = await startTestProxy(yaml);
  try {
    await fn(proxy);
  } finally {
    await proxy.stop();
  }
}

/** Words (never a 16-character base64 run) so the filler itself decodes as nothing. */
function filler(bytes: number, seed = 7): Buffer {
  const out = Buffer.alloc(bytes);
  let x = seed;
  let word = 0;
  for (let i = 0; i < bytes; i++) {
    // xorshift32: an LCG's low bits repeat and would compress away.
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    x >>>= 0;
    // Words of 1-10 lowercase letters: text that compresses only so much.
    if (word >= 10 || (word > 0 && (x >>> 16) % 7 === 0)) {
      out[i] = 0x20;
      word = 0;
    } else {
      out[i] = 0x61 + ((x >>> 8) % 26);
      word++;
    }
  }
  return out;
}

/** Send in 16 KiB pieces with short pauses, as a slow client would. */
function send(proxy: TestProxy, path: string, body: Buffer, headers: Record<string, string> = {}): Promise<SendResult> {
  const steps = [];
  for (let i = 0; i < body.length; i += 16384) steps.push({ data: body.subarray(i, i + 16384), pauseMs: 2 });
  return sendThroughProxy(proxy.port, url(path), headers, steps);
}

/** The last request the upstream saw for `path` (complete or cut), or undefined. */
async function received(path: string): Promise<Buffer | undefined> {
  await new Promise((r) => setTimeout(r, 100));
  const hit = upstream.requests.filter((r) => r.url === path).pop();
  return hit?.body;
}

async function assertBlockedBeforeDecodable(
  t: Test,
  proxy: TestProxy,
  path: string,
  res: SendResult,
  outer: BodyEncoding | undefined,
  token: Buffer,
  findingsBefore = 0,
): Promise<void> {
  t.ok(res.status === 403 || res.error !== undefined, `refused (status ${res.status ?? res.error})`);
  t.not(res.status, 200);
  const got = (await received(path)) ?? Buffer.alloc(0);
  const visible = decodeReceived(outer, got);
  t.notOk(visible.includes(token), 'the upstream never received the encoded secret whole');
  t.notOk(visible.includes(CARD), 'nor the secret itself');
  // Repeated events are folded in the audit log: count the finding in the metrics, and see one audit line name it.
  t.ok((await proxy.metric('kubedlp_findings_total', { detector: 'pci.card-number' })) > findingsBefore, 'the finding was counted');
  t.ok(proxy.audit().some((l) => (l.detectors as string[] | undefined)?.includes('pci.card-number')), 'an audit line names the detector');
}

t.test('finding 1: a gzip body larger than the hold-back window is inflated and scanned before it is forwarded', (t) =>
  withProxy(profile('Protect'), async (proxy) => {
    // The reproduction: random bytes around the card, gzip level 1.
    const r = randomBytes(120000);
    const plain = Buffer.concat([r.subarray(0, 80000), Buffer.from(` card=${CARD} `), r.subarray(80000)]);
    const res1 = await send(proxy, '/f1-random', gzipSync(plain, { level: 1 }), { 'content-encoding': 'gzip' });
    await assertBlockedBeforeDecodable(t, proxy, '/f1-random', res1, 'gzip', Buffer.from(CARD));

    // Compressible text: the card is Huffman-coded, never visible raw.
    const text = Buffer.concat([filler(150000), Buffer.from(` card=${CARD} `), filler(50000, 3)]);
    const gz = gzipSync(text);
    t.notOk(gz.includes(CARD), 'precondition: the card is not visible in the compressed bytes');
    t.ok(gz.length > HOLD_BACK, 'precondition: larger than the window');
    const before = await proxy.metric('kubedlp_findings_total', { detector: 'pci.card-number' });
    const res2 = await send(proxy, '/f1-text', gz, { 'content-encoding': 'gzip' });
    await assertBlockedBeforeDecodable(t, proxy, '/f1-text', res2, 'gzip', Buffer.from(CARD), before);
    t.equal(await proxy.metric('kubedlp_proxy_requests_total', { decision: 'allowed' }), 0, 'nothing counted as allowed');
  }),
);

t.test('finding 2: decoded views run past the hold-back window', async (t) => {
  const cases: Array<{ name: string; enc: TextEncoding[]; outer?: BodyEncoding }> = [
    { name: 'base64', enc: ['base64'] },
    { name: 'base64url', enc: ['base64url'] },
    { name: 'percent', enc: ['percent'] },
    { name: 'json-escape', enc: ['json'] },
    { name: 'form', enc: ['form'] },
    { name: 'multipart part with Content-Transfer-Encoding: base64', enc: [], outer: 'multipart-base64' },
    { name: 'gzip(base64(secret))', enc: ['base64'], outer: 'gzip' },
  ];
  await withProxy(profile('Protect'), async (proxy) => {
    for (const c of cases) {
      const token = c.enc.reduce<Buffer>((v, e) => encodeText(e, v), Buffer.from(`card=${CARD};`));
      const plain = Buffer.concat([filler(100000), Buffer.from(' "'), token, Buffer.from('" '), filler(20000, 5)]);
      const { body, headers } = c.outer ? encodeBody(c.outer, plain) : { body: plain, headers: {} };
      const path = `/f2-${c.name.replace(/[^a-z0-9]+/gi, '-')}`;
      const before = await proxy.metric('kubedlp_findings_total', { detector: 'pci.card-number' });
      const res = await send(proxy, path, body, { ...(c.enc[0] === 'form' ? { 'content-type': 'application/x-www-form-urlencoded' } : {}), ...(headers as Record<string, string>) });
      await t.test(c.name, (tt) => assertBlockedBeforeDecodable(tt, proxy, path, res, c.outer, token, before));
    }
  });
});

t.test('a body of exactly holdBackBytes ends inside the window: decided whole, nothing forwarded', (t) =>
  withProxy(profile('Protect'), async (proxy) => {
    for (const size of [HOLD_BACK - 1, HOLD_BACK]) {
      // The card is the body's last bytes, where a streamed body's first verdict cannot see it yet.
      const tail = Buffer.from(` card=${CARD}`);
      const body = Buffer.concat([filler(size - tail.length), tail]);
      t.equal(body.length, size, 'precondition: the body size');
      const path = `/window-${size}`;
      const res = await send(proxy, path, body);
      t.equal(res.status, 403, `${size} bytes: a clean 403`);
      t.equal(await received(path), undefined, `${size} bytes: the upstream saw no request at all`);
      // Repeated audit events are folded into one line: count decisions in the metrics.
      t.equal(await proxy.metric('kubedlp_proxy_requests_total', { decision: 'blocked' }), size - HOLD_BACK + 2, `${size} bytes: counted as blocked`);
    }
    t.equal(await proxy.metric('kubedlp_proxy_requests_total', { decision: 'blocked_late' }), 0, 'neither counted as blocked_late');
  }),
);

t.test('finding 3: Content-Encoding: identity keeps the decoded views on', (t) =>
  withProxy(profile('Protect'), async (proxy) => {
    const token = encodeText('base64', Buffer.from(`card=${CARD};`));
    for (const size of [100, 100000]) {
      const body = Buffer.concat([filler(size), Buffer.from(' "'), token, Buffer.from('" '), filler(100)]);
      const path = `/f3-${size}`;
      const before = await proxy.metric('kubedlp_findings_total', { detector: 'pci.card-number' });
      const res = await send(proxy, path, body, { 'content-encoding': 'identity' });
      await assertBlockedBeforeDecodable(t, proxy, path, res, undefined, token, before);
    }
  }),
);

t.test('finding 4: stacked encodings are followed to maxDecodeDepth; deeper is uninspectable', async (t) => {
  const triple = encodeText('base64', encodeText('base64', encodeText('base64', Buffer.from(`card=${CARD};`))));
  const b64b64gzip = encodeText('base64', encodeText('base64', gzipSync(`card=${CARD};`)));
  const quadruple = encodeText('base64', triple);
  for (const size of [200, 100000]) {
    await withProxy(profile('Protect'), async (proxy) => {
      for (const [name, token] of [
        ['triple base64', triple],
        ['base64(base64(gzip))', b64b64gzip],
      ] as const) {
        const path = `/f4-${name.replace(/[^a-z0-9]+/gi, '-')}-${size}`;
        const before = await proxy.metric('kubedlp_findings_total', { detector: 'pci.card-number' });
        const res = await send(proxy, path, Buffer.concat([filler(size), Buffer.from(' "'), token, Buffer.from('" '), filler(100)]));
        await t.test(`${name} (${size} B before it): found`, (tt) => assertBlockedBeforeDecodable(tt, proxy, path, res, undefined, token, before));
      }
      const path = `/f4-quadruple-${size}`;
      const res = await send(proxy, path, Buffer.concat([filler(size), Buffer.from(' "'), quadruple, Buffer.from('" '), filler(100)]));
      t.ok(res.status === 403 || res.error !== undefined, 'four base64 layers: refused in Protect');
      if (res.status === 403) t.match(JSON.parse(res.body!.toString()).reason, /maxDecodeDepth/);
      const got = (await received(path)) ?? Buffer.alloc(0);
      t.notOk(got.includes(quadruple), 'the upstream never received the whole encoded value');
      const line = proxy.audit().find((l) => String(l.path ?? '').startsWith(path));
      t.match(line, { reason: /maxDecodeDepth/ });
    });
  }
  await withProxy(profile('Monitor'), async (proxy) => {
    const path = '/f4-quadruple-monitor';
    const res = await send(proxy, path, Buffer.concat([filler(100000), Buffer.from(' "'), quadruple, Buffer.from('" '), filler(100)]));
    t.equal(res.status, 200, 'Monitor forwards');
    const line = proxy.audit().find((l) => String(l.path ?? '').startsWith(path));
    t.match(line, { decision: 'uninspected', reason: /maxDecodeDepth/ }, 'and records it as uninspectable');
  });
  await withProxy(profile('Protect', '    maxDecodeDepth: 4\n'), async (proxy) => {
    const path = '/f4-quadruple-depth4';
    const res = await send(proxy, path, Buffer.concat([filler(100000), Buffer.from(' "'), quadruple, Buffer.from('" '), filler(100)]));
    await assertBlockedBeforeDecodable(t, proxy, path, res, undefined, quadruple);
  });
});

t.test('obfuscations a reader undoes at a glance are caught past the window (normalized view)', async (t) => {
  const fullWidth = [...CARD].map((d) => String.fromCharCode(0xff10 + Number(d))).join('');
  const cases: Array<{ name: string; token: Buffer; body?: (token: Buffer) => Buffer }> = [
    { name: 'full-width digits', token: Buffer.from(fullWidth) },
    { name: 'HTML entities', token: Buffer.from([...CARD].map((d) => `&#${d.charCodeAt(0)};`).join('')) },
    { name: 'zero-width spaces', token: Buffer.from([...CARD].join('\u200b')) },
    { name: 'one digit per line', token: Buffer.from([...CARD].join('\n')) },
    {
      name: 'a UTF-16 body',
      token: Buffer.from(`card=${CARD};`, 'utf16le'),
      body: (token) => Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from(filler(100000).toString('latin1'), 'utf16le'), token, Buffer.from(' end', 'utf16le')]),
    },
  ];
  await withProxy(profile('Protect'), async (proxy) => {
    for (const c of cases) {
      const body = c.body ? c.body(c.token) : Buffer.concat([filler(100000), Buffer.from(' card: '), c.token, Buffer.from(' '), filler(20000, 5)]);
      const path = `/normalized-${c.name.replace(/[^a-z0-9]+/gi, '-')}`;
      const before = await proxy.metric('kubedlp_findings_total', { detector: 'pci.card-number' });
      const res = await send(proxy, path, body);
      await t.test(c.name, async (tt) => {
        await assertBlockedBeforeDecodable(tt, proxy, path, res, undefined, c.token, before);
        const got = (await received(path)) ?? Buffer.alloc(0);
        tt.ok(got.length < body.length, 'the upstream request was cut before the body ended');
      });
    }
  });
  await withProxy(profile('Monitor'), async (proxy) => {
    const path = '/normalized-monitor';
    const res = await send(proxy, path, Buffer.concat([filler(100000), Buffer.from(` card: ${fullWidth} `), filler(100)]));
    t.equal(res.status, 200, 'Monitor forwards');
    const line = proxy.audit().find((l) => String(l.path ?? '').startsWith(path));
    t.match(line, { detectors: ['pci.card-number'] }, 'and the audit line names the detector');
    t.notMatch(JSON.stringify(line), fullWidth, 'with masked evidence only');
  });
  await withProxy(profile('Protect', '    decoders: [gzip, deflate, br, percent, json, base64, multipart]\n'), async (proxy) => {
    const path = '/normalized-off';
    const res = await send(proxy, path, Buffer.concat([filler(100000), Buffer.from(` card: ${fullWidth} `), filler(100)]));
    t.equal(res.status, 200, 'a profile that leaves normalize out of its decoders does not read full-width digits');
  });
});

t.test('a clean body larger than the window streams through byte-identical under every view', (t) =>
  withProxy(profile('Protect'), async (proxy) => {
    const body = Buffer.concat([filler(300000), Buffer.from(' "'), encodeText('base64', Buffer.from('nothing to see here, move along')), Buffer.from('" %41%42 \\u0043 '), filler(300000, 9)]);
    const res = await send(proxy, '/clean', body);
    t.equal(res.status, 200);
    const got = await received('/clean');
    t.ok(got?.equals(body), 'byte-identical');
  }),
);

t.test('responses go through the same stage: an encoded card past the window cuts the response before it is whole', (t) =>
  withProxy(profile('Protect', '    responseBody: true\n'), async (proxy) => {
    const token = encodeText('base64', Buffer.from(`card=${CARD};`));
    const page = Buffer.concat([filler(200000), Buffer.from(' "'), token, Buffer.from('" '), filler(50000, 11)]);
    upstream.behave((_req, res) => {
      res.writeHead(200, { 'content-type': 'text/plain', 'content-length': page.length });
      // Written in pieces so the proxy streams it rather than holding it all.
      let at = 0;
      const next = (): void => {
        if (at >= page.length) return void res.end();
        const piece = page.subarray(at, at + 16384);
        at += piece.length;
        res.write(piece, () => setTimeout(next, 1));
      };
      next();
    });
    try {
      const got = await new Promise<{ status?: number; body: Buffer; complete: boolean }>((resolve) => {
        const chunks: Buffer[] = [];
        const req = http.get({ host: '127.0.0.1', port: proxy.port, path: url('/page'), agent: false }, (res) => {
          res.on('data', (c: Buffer) => chunks.push(c));
          res.on('end', () => resolve({ status: res.statusCode, body: Buffer.concat(chunks), complete: res.complete }));
          res.on('error', () => resolve({ status: res.statusCode, body: Buffer.concat(chunks), complete: false }));
          res.on('aborted', () => resolve({ status: res.statusCode, body: Buffer.concat(chunks), complete: false }));
        });
        req.on('error', () => resolve({ body: Buffer.concat(chunks), complete: false }));
      });
      t.equal(got.complete, false, 'the response was cut');
      t.ok(got.body.length > 0 && got.body.length < page.length, `part of the page arrived (${got.body.length} of ${page.length} bytes)`);
      t.notOk(got.body.includes(token), 'the client never received the encoded card whole');
      await new Promise((r) => setTimeout(r, 50));
      t.ok(proxy.audit().some((l) => l.decision === 'blocked_late' && /response truncated/.test(String(l.reason))), 'audited as blocked_late');
    } finally {
      upstream.behave(undefined);
    }
  }),
);
