// Small pieces shared by every inspection step: timing and byte accounting
// for the scan metrics, inspecting a payload under the profile's decoder list
// and limits, and turning engine errors into "uninspectable".
import { performance } from 'node:perf_hooks';
import { inspectBuffer } from '../scan/inspect';
import type { Finding } from '../scan/types';
import type { RuntimeConfig } from '../profile';
import type { Uninspectable } from './verdict';

/** Bytes scanned and CPU time spent scanning, per request. */
export class ScanMeter {
  bytes = 0;
  seconds = 0;

  time<T>(bytes: number, fn: () => T): T {
    const started = performance.now();
    try {
      return fn();
    } finally {
      this.seconds += (performance.now() - started) / 1000;
      this.bytes += bytes;
    }
  }
}

export function asUninspectable(err: unknown): Uninspectable {
  const code = typeof (err as { code?: unknown })?.code === 'string' ? String((err as { code: string }).code) : 'KDLP_SCAN_FAILED';
  const message = err instanceof Error ? err.message : 'scan failed';
  return { code, reason: message };
}

// View names come from the decoding pipeline (`gzip>json>base64`); each step
// must be a decoder the profile enables.
const DECODER_OF_VIEW_STEP: Readonly<Record<string, string>> = {
  percent: 'percent',
  form: 'percent',
  json: 'json',
  base64: 'base64',
  multipart: 'multipart',
  qp: 'multipart',
  normalized: 'normalize',
  gzip: 'gzip',
  'x-gzip': 'gzip',
  deflate: 'deflate',
  br: 'br',
};

const decoderSets = new WeakMap<RuntimeConfig, ReadonlySet<string>>();

export function enabledDecoders(cfg: RuntimeConfig): ReadonlySet<string> {
  let set = decoderSets.get(cfg);
  if (set === undefined) {
    set = new Set(cfg.spec.inspection.decoders);
    decoderSets.set(cfg, set);
  }
  return set;
}

const VIEW_DECODERS = ['percent', 'json', 'base64', 'multipart', 'normalize'];

/** True when the profile enables any decoder that produces text views (not just content codings). */
function wantsViews(cfg: RuntimeConfig): boolean {
  const enabled = enabledDecoders(cfg);
  return VIEW_DECODERS.some((d) => enabled.has(d));
}

export function viewAllowed(view: string, enabled: ReadonlySet<string>): boolean {
  for (const step of view.split(/[>,]/)) {
    const decoder = DECODER_OF_VIEW_STEP[step.trim()];
    if (decoder === undefined || !enabled.has(decoder)) return false;
  }
  return true;
}

export interface PayloadInspection {
  findings: Finding[];
  uninspectable?: Uninspectable;
  /** Offsets refer to the decoded body (it had a Content-Encoding), not the bytes on the wire. */
  decodedBody: boolean;
}

/**
 * Inspect one complete payload (raw bytes and decoded views) the way the
 * profile says: its bomb limits, and only the decoders it enables.
 */
export function inspectPayload(
  cfg: RuntimeConfig,
  meter: ScanMeter,
  payload: Buffer,
  opts: { source: 'body' | 'url' | 'header'; contentType?: string; contentEncoding?: string; maxDepth?: number },
): PayloadInspection {
  const { maxDecodedBytes, maxDecompressionRatio } = cfg.spec.inspection;
  let result;
  try {
    result = meter.time(payload.length, () =>
      inspectBuffer(cfg.scanner, payload, {
        source: opts.source,
        contentType: opts.contentType,
        contentEncoding: opts.contentEncoding,
        decodeViews: wantsViews(cfg),
        maxDepth: opts.maxDepth,
        strictDepth: opts.maxDepth !== undefined,
        limits: { maxOutputBytes: Math.max(1, maxDecodedBytes), maxRatio: Math.max(1, maxDecompressionRatio) },
      }),
    );
  } catch (err) {
    return { findings: [], uninspectable: asUninspectable(err), decodedBody: false };
  }
  const enabled = enabledDecoders(cfg);
  const findings = result.findings.filter((f) => f.view === undefined || viewAllowed(f.view, enabled));
  return { findings, uninspectable: result.uninspectable, decodedBody: result.decodedBody };
}
