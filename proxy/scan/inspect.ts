// Inspect one complete payload: undo its Content-Encoding, scan the bytes,
// then scan every decoded view (percent, JSON escapes, base64, multipart)
// and map those findings back to offsets in the payload. Used by the CLI on
// files and by the proxy on URLs, headers and held-back bodies.
import type { Finding } from './types';
import type { Scanner } from './scanner';
import { decodeContentSync, decodeViews, isDecodeError, type DecodeLimits } from './decode';
import { ScanOverflowError } from './errors';
import { SpanIndex } from './span-index';

export interface InspectOptions {
  /** The Content-Encoding header, if the payload is an HTTP body. */
  contentEncoding?: string;
  contentType?: string;
  /** What the payload is: bodies, URLs (query `+` is a space) and headers decode differently. */
  source?: 'body' | 'url' | 'header';
  /** Decoded-view derivation; false skips it (raw bytes only). */
  decodeViews?: boolean;
  maxDepth?: number;
  /** Content nested deeper than maxDepth is uninspectable (KDLP_DECODE_DEPTH) rather than just not decoded. */
  strictDepth?: boolean;
  limits?: Partial<DecodeLimits>;
}

export interface Uninspectable {
  /** Stable code, e.g. KDLP_DECODE_BOMB, KDLP_DECODE_UNSUPPORTED, KDLP_SCAN_OVERFLOW, KDLP_VIEWS_TRUNCATED. */
  code: string;
  reason: string;
}

export interface InspectResult {
  findings: Finding[];
  /** Set when part of the payload could not be inspected; a blocking profile must block. */
  uninspectable?: Uninspectable;
  /** True when findings' offsets refer to the decoded body (it had a Content-Encoding). */
  decodedBody: boolean;
}

export const DEFAULT_DECODE_LIMITS: DecodeLimits = {
  maxOutputBytes: 64 * 1024 * 1024,
  maxRatio: 100,
};

export function inspectBuffer(scanner: Scanner, payload: Buffer, opts: InspectOptions = {}): InspectResult {
  let body = payload;
  let decodedBody = false;
  let encodingView: string | undefined;
  const encoding = opts.contentEncoding?.trim().toLowerCase();
  if (encoding && encoding !== 'identity') {
    try {
      body = decodeContentSync(payload, opts.contentEncoding, { ...DEFAULT_DECODE_LIMITS, ...opts.limits });
      decodedBody = true;
      encodingView = encoding.replace(/\s+/g, '');
    } catch (err) {
      if (!isDecodeError(err)) throw err;
      // The compressed bytes are still scanned (a plain-text secret next to
      // a bad gzip member is still a finding), but the verdict must know.
      const raw = safeScan(scanner, payload);
      return {
        findings: raw.findings,
        uninspectable: raw.uninspectable ?? { code: err.code, reason: err.message },
        decodedBody: false,
      };
    }
  }

  const primary = safeScan(scanner, body);
  if (primary.uninspectable) return { findings: primary.findings, uninspectable: primary.uninspectable, decodedBody };
  const findings = primary.findings.map((f) => (encodingView ? { ...f, view: encodingView } : f));
  let uninspectable: Uninspectable | undefined;

  if (opts.decodeViews !== false) {
    const derived = decodeViews(body, { contentType: opts.contentType, source: opts.source, maxDepth: opts.maxDepth });
    for (const view of derived.views) {
      const scanned = safeScan(scanner, view.data);
      if (scanned.uninspectable) uninspectable ??= scanned.uninspectable;
      for (const f of scanned.findings) {
        const [start, end] = view.toRaw(f.start, f.end);
        const viewName = encodingView ? `${encodingView}>${view.view}` : view.view;
        findings.push({ ...f, start, end, view: viewName });
      }
    }
    if (derived.depthLimited && opts.strictDepth) {
      uninspectable ??= {
        code: 'KDLP_DECODE_DEPTH',
        reason: 'encodings nested deeper than inspection.maxDecodeDepth; the innermost content was not inspected',
      };
    }
    if (derived.truncated) {
      uninspectable ??= {
        code: 'KDLP_VIEWS_TRUNCATED',
        reason: 'decoded views exceeded their size or count limits; part of the payload was not inspected decoded',
      };
    }
  }
  return { findings: dedupeAcrossViews(findings), uninspectable, decodedBody };
}

function safeScan(scanner: Scanner, data: Buffer): { findings: Finding[]; uninspectable?: Uninspectable } {
  try {
    return { findings: scanner.scan(data) };
  } catch (err) {
    if (err instanceof ScanOverflowError) return { findings: [], uninspectable: { code: err.code, reason: err.message } };
    throw err;
  }
}

/**
 * A decoded view repeats every byte that decoding left unchanged, so the same
 * secret can be found in the raw bytes and in a view. Keep the raw finding
 * (exact offsets) and drop view findings of the same detector overlapping it.
 */
function dedupeAcrossViews(findings: Finding[]): Finding[] {
  // Nothing to deduplicate or order (most payloads): skip the index and the two sorts.
  if (findings.length <= 1) return findings;
  const out: Finding[] = [];
  const kept = new Map<string, SpanIndex>();
  const sorted = [...findings].sort((a, b) => Number(a.view !== undefined) - Number(b.view !== undefined) || a.start - b.start);
  for (const f of sorted) {
    let spans = kept.get(f.detector);
    if (spans?.overlaps(f.start, f.end)) continue;
    if (!spans) kept.set(f.detector, (spans = new SpanIndex()));
    spans.add(f.start, f.end);
    out.push(f);
  }
  return out.sort((a, b) => a.start - b.start || (a.detector < b.detector ? -1 : 1));
}
