// Decoded views of a payload: every way the bytes could be hiding text behind
// an encoding (percent, form, JSON escapes, base64, multipart parts,
// transfer encodings, embedded compression, and the normalized view of
// normalize.ts), each with a map back to raw
// offsets so findings in a view are reported where the raw bytes are.
import { createHash } from 'node:crypto';
import { decodeBase64, findBase64Runs, splitRunAtSlashes, type Base64Run } from './base64';
import { embeddedCompression, inflateEmbedded } from './embedded-compression';
import { decodeJsonEscapes, looksLikeJson } from './json-escapes';
import { multipartBoundary, splitMultipart } from './multipart';
import { OffsetMapBuilder, type Decoded } from './offset-map';
import { decodePercent, type PlusRule } from './percent';
import { normalizeText, detectUtf16 } from './normalize';
import { decodeQuotedPrintable } from './quoted-printable';
import { looksLikeText } from './text-heuristics';

export interface DecodedView {
  /** How it was obtained, outermost first: `percent`, `json`, `base64`, `multipart>base64`, `json>base64>gzip`, ... */
  view: string;
  /** Decoded bytes. May share memory with the raw input: do not mutate. */
  data: Buffer;
  /** The raw span that produced decoded bytes [start, end): exact for copied bytes, widened to whole escapes/groups otherwise. */
  toRaw(start: number, end: number): [number, number];
}

export interface ViewOptions {
  /** Most decodings stacked on one another (default 2). A multipart split does not count: it decodes nothing. */
  maxDepth?: number;
  /** Most views returned (default 64). */
  maxViews?: number;
  /** Most bytes over all views (default 4 x input). */
  maxTotalBytes?: number;
  /** Content-Type of the input: selects form decoding, JSON, multipart. */
  contentType?: string;
  /** What the input is (default `body`). For `url`, `+` is a space in the query string. Headers decode like bodies. */
  source?: 'body' | 'url' | 'header';
}

export interface DecodeViewsResult {
  views: DecodedView[];
  /** A cap (maxViews, maxTotalBytes) stopped decoding: some decodable content was not expanded. */
  truncated: boolean;
  /** maxDepth stopped decoding: a view at the deepest level still had something decodable in it. */
  depthLimited: boolean;
}

export const DEFAULT_MAX_DEPTH = 2;
export const DEFAULT_MAX_VIEWS = 64;
export const DEFAULT_TOTAL_BYTES_FACTOR = 4;

/**
 * Only additional views are returned, never the raw input itself, and only
 * where decoding changed something (multipart part bodies excepted: they are
 * returned so each part is scanned on its own). Never throws on malformed
 * input; caps end in `truncated`, not in an error.
 */
export function decodeViews(raw: Buffer, opts: ViewOptions = {}): DecodeViewsResult {
  const maxDepth = opts.maxDepth ?? DEFAULT_MAX_DEPTH;
  const maxViews = opts.maxViews ?? DEFAULT_MAX_VIEWS;
  const maxTotalBytes = opts.maxTotalBytes ?? DEFAULT_TOTAL_BYTES_FACTOR * raw.length;
  const result: DecodeViewsResult = { views: [], truncated: false, depthLimited: false };
  const seenRuns = new Set<string>();
  const seenViews = new Set<string>();
  let totalBytes = 0;

  const root: Node = {
    name: '',
    data: raw,
    depth: 0,
    contentType: opts.contentType,
    plus: opts.source === 'url' ? 'query' : isForm(opts.contentType) ? 'all' : 'none',
    isRaw: true,
    toRaw: (start, end) => {
      if (start < 0 || end < start || end > raw.length) {
        throw new RangeError(`span [${start}, ${end}) is outside the input (length ${raw.length})`);
      }
      return [start, end];
    },
  };

  // Breadth first, so when a cap bites it is the deepest decodings that go.
  const queue: Node[] = [root];
  for (let q = 0; q < queue.length; q++) {
    const node = queue[q];
    let found: Iterable<Candidate>;
    const parts = node.isRaw ? multipartParts(node) : null;
    if (parts !== null) {
      // A multipart split adds no depth, so it happens even at the limit.
      found = parts;
    } else if (node.depth < maxDepth) {
      found = decodings(node, seenRuns, maxTotalBytes - totalBytes, false);
    } else {
      if (!result.depthLimited && !decodings(node, seenRuns, 0, true).next().done) result.depthLimited = true;
      continue;
    }
    for (const candidate of found) {
      if (candidate.runKey !== undefined) seenRuns.add(candidate.runKey);
      if (candidate.decoded === 'too-large') {
        result.truncated = true;
        continue;
      }
      if (result.views.length >= maxViews) {
        result.truncated = true;
        return result;
      }
      const { data, map } = candidate.decoded;
      if (data.length === 0) continue;
      const parentToRaw = node.toRaw;
      const toRaw = (start: number, end: number): [number, number] => {
        const [s, e] = map.toSource(start, end);
        return parentToRaw(s, e);
      };
      // Decodings often commute (JSON-unescaping a percent-decoded body
      // gives the same bytes as the other way round): a view with the same
      // bytes over the same raw span adds nothing, and must not eat budget.
      const sameness = viewIdentity(data, toRaw);
      if (seenViews.has(sameness)) continue;
      seenViews.add(sameness);
      if (totalBytes + data.length > maxTotalBytes) {
        result.truncated = true;
        continue;
      }
      totalBytes += data.length;
      const child: Node = {
        name: node.name === '' ? candidate.kind : `${node.name}>${candidate.kind}`,
        data,
        depth: candidate.kind === 'multipart' ? node.depth : node.depth + 1,
        contentType: candidate.contentType,
        transferEncoding: candidate.transferEncoding,
        plus: isForm(candidate.contentType) ? 'all' : 'none',
        isRaw: false,
        toRaw,
      };
      result.views.push({ view: child.name, data: child.data, toRaw: child.toRaw });
      queue.push(child);
    }
  }
  return result;
}

interface Node {
  name: string;
  data: Buffer;
  depth: number;
  contentType?: string;
  /** Content-Transfer-Encoding of a multipart part. */
  transferEncoding?: string;
  plus: PlusRule;
  isRaw: boolean;
  toRaw(start: number, end: number): [number, number];
}

interface Candidate {
  kind: string;
  decoded: Decoded | 'too-large';
  contentType?: string;
  transferEncoding?: string;
  /** Identity of a base64 run (raw span + text), so one run is decoded once whichever view it shows up in. */
  runKey?: string;
}

/** One candidate per non-empty part body, or null when `node` is not a parsable multipart body. */
function multipartParts(node: Node): Candidate[] | null {
  const boundary = multipartBoundary(node.contentType);
  const parts = boundary === null ? null : splitMultipart(node.data, boundary);
  if (parts === null) return null;
  return parts
    .filter((part) => part.bodyEnd > part.bodyStart)
    .map((part) => {
      const map = new OffsetMapBuilder();
      map.copy(part.bodyStart, part.bodyEnd - part.bodyStart);
      return {
        kind: 'multipart',
        decoded: { data: node.data.subarray(part.bodyStart, part.bodyEnd), map: map.build() },
        contentType: part.headers.get('content-type'),
        transferEncoding: part.headers.get('content-transfer-encoding')?.toLowerCase(),
      };
    });
}

/**
 * Every decoding of `node` that changes something, lazily. `budget` bounds
 * decompression output. A probe only asks whether anything is decodable, so
 * it decompresses no more than it takes to tell a real stream from noise.
 */
function* decodings(node: Node, seenRuns: ReadonlySet<string>, budget: number, probe: boolean): Generator<Candidate> {
  const { data } = node;
  if (data.length === 0) return;

  // A declared transfer encoding says exactly how to read the part.
  if (node.transferEncoding === 'base64') {
    yield { kind: 'base64', decoded: decodeBase64(data, 0, data.length, true), contentType: node.contentType };
    return;
  }
  if (node.transferEncoding === 'quoted-printable') {
    const decoded = decodeQuotedPrintable(data);
    if (decoded) yield { kind: 'qp', decoded, contentType: node.contentType };
    return;
  }

  const compression = embeddedCompression(data);
  if (compression !== null) {
    const inflated = inflateEmbedded(data, compression, probe ? COMPRESSED_EVIDENCE_BYTES : budget);
    if (inflated !== null) {
      if (inflated === 'too-large') {
        yield { kind: compression, decoded: 'too-large' };
      } else if (inflated.length > 0) {
        const map = new OffsetMapBuilder();
        // Which compressed bytes made which output byte is not tracked:
        // every output byte maps to the whole compressed input.
        map.unit(inflated.length, 0, data.length);
        yield { kind: compression, decoded: { data: inflated, map: map.build() } };
      }
      return;
    }
  }

  // What a reader sees (full-width digits, zero-width characters, entities,
  // split digit runs, UTF-16): a view of text only, and never of itself.
  const text = looksLikeText(data);
  if ((text || detectUtf16(data) !== null) && !node.name.endsWith('normalized')) {
    const normalized = normalizeText(data);
    if (normalized) yield { kind: 'normalized', decoded: normalized, contentType: node.contentType };
  }

  // Percent and JSON escapes are text encodings: in binary (an image, a
  // zip) a `%41` or `\n` is a coincidence, and a whole-body view of it would
  // only double the scanning work.
  if (text) {
    const percent = decodePercent(data, node.plus);
    if (percent) yield { kind: node.plus === 'all' ? 'form' : 'percent', decoded: percent };

    // `\u0034` spells text out in any body, not only in a JSON document.
    if (looksLikeJson(data, node.contentType) || data.includes(UNICODE_ESCAPE)) {
      const json = decodeJsonEscapes(data);
      if (json) yield { kind: 'json', decoded: json, contentType: node.contentType };
    }
  }

  for (const run of findBase64Runs(data)) {
    const whole = decodeRun(node, run, seenRuns);
    if (whole === 'seen') continue;
    if (whole.decoded) {
      yield { kind: 'base64', decoded: whole.decoded, runKey: whole.runKey };
      continue;
    }
    // A run glued to a URL path (`/v1/tokens/eyJ...`) decodes misaligned as
    // a whole; its slash-separated pieces may not.
    for (const piece of splitRunAtSlashes(data, run)) {
      const decoded = decodeRun(node, piece, seenRuns);
      if (decoded !== 'seen' && decoded.decoded) yield { kind: 'base64', decoded: decoded.decoded, runKey: decoded.runKey };
    }
  }
}

function decodeRun(node: Node, run: Base64Run, seenRuns: ReadonlySet<string>): 'seen' | { decoded: Decoded | null; runKey: string } {
  const [rawStart, rawEnd] = node.toRaw(run.start, run.end);
  const runKey = `${rawStart}:${rawEnd}:${node.data.toString('latin1', run.start, run.end)}`;
  if (seenRuns.has(runKey)) return 'seen';
  const decoded = decodeBase64(node.data, run.start, run.end);
  // Text, or a compressed stream the next level will open.
  const useful = looksLikeText(decoded.data) || isCompressedStream(decoded.data);
  return { decoded: useful ? decoded : null, runKey };
}

const UNICODE_ESCAPE = Buffer.from('\\u');

/** Output a random stream must produce before failing for us to believe it is compressed data. */
const COMPRESSED_EVIDENCE_BYTES = 4096;

/**
 * Random bytes carry a valid zlib header about once in a thousand, so the
 * signature alone would turn every long run of base64 noise (an uploaded
 * image) into views. Real compressed data inflates completely, or at least
 * for a few KiB; noise fails within a few dozen bytes.
 */
function isCompressedStream(data: Buffer): boolean {
  const kind = embeddedCompression(data);
  return kind !== null && inflateEmbedded(data, kind, COMPRESSED_EVIDENCE_BYTES) !== null;
}

function viewIdentity(data: Buffer, toRaw: (start: number, end: number) => [number, number]): string {
  const [rawStart, rawEnd] = toRaw(0, data.length);
  return `${rawStart}:${rawEnd}:${data.length}:${createHash('sha256').update(data).digest('base64')}`;
}

function isForm(contentType: string | undefined): boolean {
  return contentType !== undefined && /^\s*application\/x-www-form-urlencoded\s*(;|$)/i.test(contentType);
}
