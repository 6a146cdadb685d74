// Property (issue 11): whatever the secret (a card, an SSN, an AWS key id,
// a PEM private key), whatever the body size, wherever the secret sits
// (around holdBackBytes, across chunk edges), however it is wrapped (up to
// maxDecodeDepth encodings: content codings, base64, base64url, percent,
// JSON escapes, form, multipart parts with Content-Transfer-Encoding:
// base64, stacked content codings) and however the client paces the upload:
// - in Protect, the upstream never receives bytes from which the secret can
//   be decoded, and the client gets a 403 or a cut connection;
// - in Monitor, the request goes through and the finding is recorded.
// Real proxies, a recording upstream, seeded and bounded in time.
import t from 'tap';
import fc from 'fast-check';
import { PROFILE_HEADER, startTestProxy, startUpstream, type TestProxy, type Upstream } from './proxy-harness';
import { decodeReceivedLayers, encodeBodyLayers, encodeText, sendThroughProxy, type BodyEncoding, type SendStep, type TextEncoding } from './encodings';
import { findDetector } from '../../proxy/scan/detectors';

interface Secret {
  detector: string;
  /** What the client plants. */
  text: string;
  /** What must never be readable at the upstream: the value, or for a key its first body line. */
  revealing: string;
}

/** A secret from the detector library's own first positive example, so it is one the detector is known to find. */
function librarySecret(detector: string, value: RegExp): Secret {
  const text = findDetector(detector)?.examples.positive[0];
  const revealing = text?.match(value)?.[0];
  if (!text || !revealing) throw new Error(`${detector}: no positive example with ${value}`);
  return { detector, text, revealing };
}

const SECRETS: readonly Secret[] = [
  { detector: 'pci.card-number', text: 'card=4111111111111111;', revealing: '4111111111111111' },
  librarySecret('pii.us-ssn', /[0-9]{3}-[0-9]{2}-[0-9]{4}/),
  librarySecret('secret.aws-access-key-id', /AKIA[A-Z2-7]{16}/),
  // The first body line: even a partial key must not get out.
  librarySecret('secret.private-key-rsa', /(?<=-----\n)[A-Za-z0-9+/]{64}/),
];
const HOLD_BACK = 65536;
const MAX_BODY = 2 * 1024 * 1024;
const MAX_DEPTH = 3;

function profile(mode: 'Protect' | 'Monitor'): string {
  return `${PROFILE_HEADER}spec:
  mode: ${mode}
  detectors:
    enable: [${SECRETS.map((x) => x.detector).join(', ')}]
    overrides:
${SECRETS.map((x) => `      - { id: ${x.detector}, action: block }`).join('\n')}
  inspection:
    holdBackBytes: ${HOLD_BACK}
    maxBodyBytes: ${4 * MAX_BODY}
    maxDecodeDepth: ${MAX_DEPTH}
`;
}

interface Case {
  secret: Secret;
  size: number;
  /** Where the secret goes: a fraction of the body, or an offset around the window edge. */
  at: { fraction: number } | { aroundWindow: number };
  inner: TextEncoding[];
  /** Applied in order after the text encodings: at most one multipart wrapper (first), then content codings. */
  outer: BodyEncoding[];
  chunkSizes: number[];
  pauses: number[];
  seed: number;
}

const caseArb: fc.Arbitrary<Case> = fc
  .record({
    secret: fc.constantFrom(...SECRETS),
    size: fc.oneof(
      { weight: 2, arbitrary: fc.integer({ min: 1, max: 4096 }) },
      { weight: 3, arbitrary: fc.integer({ min: HOLD_BACK - 2048, max: HOLD_BACK + 2048 }) },
      { weight: 2, arbitrary: fc.integer({ min: 1, max: MAX_BODY }) },
    ),
    at: fc.oneof(
      fc.record({ fraction: fc.double({ min: 0, max: 1, noNaN: true }) }),
      fc.record({ aroundWindow: fc.integer({ min: -96, max: 96 }) }),
    ),
    inner: fc.array(fc.constantFrom<TextEncoding>('base64', 'base64url', 'percent', 'json', 'form'), { maxLength: MAX_DEPTH }),
    outer: fc
      .tuple(fc.boolean(), fc.array(fc.constantFrom<BodyEncoding>('gzip', 'deflate', 'br'), { maxLength: 2 }))
      .map(([multipart, codings]) => [...(multipart ? (['multipart-base64'] as BodyEncoding[]) : []), ...codings]),
    chunkSizes: fc.array(fc.integer({ min: 1, max: 96 * 1024 }), { minLength: 1, maxLength: 8 }),
    pauses: fc.array(fc.integer({ min: 0, max: 3 }), { minLength: 1, maxLength: 8 }),
    seed: fc.integer({ min: 1, max: 0x7fffffff }),
  })
  // Every layer counts toward maxDecodeDepth; form escaping only means something as the outermost text layer of a form body.
  .filter((c) => c.inner.length + c.outer.length <= MAX_DEPTH)
  .map((c) => ({ ...c, inner: c.inner.map((e, i) => (e === 'form' && (i < c.inner.length - 1 || c.outer.length > 0) ? 'percent' : e)) }));

/** Lowercase words and spaces: no base64 run, no escape, so only the planted token decodes to anything. */
function filler(bytes: number, seed: number): Buffer {
  const out = Buffer.alloc(bytes);
  let x = seed | 1;
  let word = 0;
  for (let i = 0; i < bytes; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    x >>>= 0;
    if (word >= 10 || (word > 0 && x % 7 === 0)) {
      out[i] = 0x20;
      word = 0;
    } else {
      out[i] = 0x61 + ((x >>> 8) % 26);
      word++;
    }
  }
  return out;
}

function build(c: Case): { body: Buffer; headers: Record<string, string>; token: Buffer; steps: SendStep[] } {
  const token = c.inner.reduce<Buffer>((v, e) => encodeText(e, v), Buffer.from(c.secret.text));
  const planted = Buffer.concat([Buffer.from(' "'), token, Buffer.from('" ')]);
  const room = Math.max(0, c.size - planted.length);
  const offset = 'fraction' in c.at ? Math.floor(c.at.fraction * room) : Math.max(0, Math.min(room, HOLD_BACK + c.at.aroundWindow - planted.length));
  const plain = Buffer.concat([filler(offset, c.seed), planted, filler(room - offset, c.seed + 1)]);
  const encoded = encodeBodyLayers(c.outer, plain);
  const headers: Record<string, string> = { ...(encoded.headers as Record<string, string>) };
  if (c.inner[c.inner.length - 1] === 'form' && c.outer.length === 0) headers['content-type'] = 'application/x-www-form-urlencoded';
  const steps: SendStep[] = [];
  // At most ~256 writes, so tiny chunks with pauses stay cheap on large bodies; small bodies still go byte by byte.
  const minChunk = Math.ceil(encoded.body.length / 256);
  for (let at = 0, i = 0; at < encoded.body.length; i++) {
    const n = Math.max(minChunk, c.chunkSizes[i % c.chunkSizes.length]);
    steps.push({ data: encoded.body.subarray(at, at + n), pauseMs: c.pauses[i % c.pauses.length] });
    at += n;
  }
  return { body: encoded.body, headers, token, steps };
}

let upstream: Upstream;
let protect: TestProxy;
let monitor: TestProxy;
t.before(async () => {
  upstream = await startUpstream();
  protect = await startTestProxy(profile('Protect'));
  monitor = await startTestProxy(profile('Monitor'));
});
t.teardown(async () => {
  await protect.stop();
  await monitor.stop();
  await upstream.close();
});

let run = 0;
const seenDetectors = new Set<string>();
t.test('no decodable secret reaches the upstream in Protect; Monitor records it', async (t) => {
  const started = Date.now();
  const result = await fc.check(
    fc.asyncProperty(caseArb, async (c) => {
      const { headers, token, steps } = build(c);
      if (process.env.KDLP_PROP_DEBUG) console.error(`case: ${describe(c)} pauses [${c.pauses.join(",")}] body ${steps.reduce((n, s) => n + s.data.length, 0)}`);
      const path = `/prop-${run++}`;
      const url = `http://127.0.0.1:${upstream.port}${path}`;

      const blocked = await sendThroughProxy(protect.port, url, headers, steps);
      if (blocked.status === 200) throw new Error(`Protect answered 200 (${describe(c)})`);
      // Refused for finding the secret, not for failing to decode what it was wrapped in.
      if (blocked.status === 403 && !blocked.body?.toString().includes(c.secret.detector)) {
        throw new Error(`Protect refused without naming ${c.secret.detector}: ${blocked.body?.toString().slice(0, 200)} (${describe(c)})`);
      }
      // Let a cut upload settle at the upstream before reading what it got.
      await new Promise((r) => setTimeout(r, 30));
      const got = upstream.requests.filter((r) => r.url === path).pop()?.body ?? Buffer.alloc(0);
      const visible = decodeReceivedLayers(c.outer, got);
      if (visible.includes(token) || visible.includes(c.secret.revealing)) throw new Error(`the upstream received a decodable secret (${describe(c)})`);

      const before = await monitor.metric('kubedlp_findings_total', { detector: c.secret.detector });
      const seen = await sendThroughProxy(monitor.port, url, headers, steps);
      if (seen.status !== 200) throw new Error(`Monitor answered ${seen.status ?? seen.error} (${describe(c)})`);
      const after = await monitor.metric('kubedlp_findings_total', { detector: c.secret.detector });
      if (after <= before) throw new Error(`Monitor did not record the finding (${describe(c)})`);
      seenDetectors.add(c.secret.detector);
    }),
    // Seeded and bounded: a failure replays with this seed; the time limit keeps `make test` fast.
    { seed: Number(process.env.KDLP_PROP_SEED ?? 1101), numRuns: Number(process.env.KDLP_PROP_RUNS ?? 100), interruptAfterTimeLimit: 45_000, markInterruptAsFailure: false, endOnFailure: true },
  );
  if (result.failed) t.comment(String((result.errorInstance as Error | undefined)?.message ?? "property failed"));
  t.notOk(result.failed, result.failed ? fc.defaultReportMessage(result) ?? 'property failed' : 'property held');
  t.ok(result.numRuns >= 5, `${result.numRuns} cases in ${Math.round((Date.now() - started) / 1000)} s`);
  const named = new Set(monitor.audit().flatMap((l) => (l.detectors as string[] | undefined) ?? []));
  t.ok(
    seenDetectors.size > 0 && [...seenDetectors].every((d) => named.has(d)),
    `the Monitor audit log names every planted detector (${[...seenDetectors].join(', ')})`,
  );
});

function describe(c: Case): string {
  return `${c.secret.detector}, size ${c.size}, at ${JSON.stringify(c.at)}, inner [${c.inner.join(',')}], outer [${c.outer.join(',')}], chunks [${c.chunkSizes.join(',')}]`;
}
