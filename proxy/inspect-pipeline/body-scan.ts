// Inspection of a body that fits in the hold-back window: the whole message
// is in memory, so it is decoded (Content-Encoding, under the profile's
// bomb limits) and all its text views are scanned, to maxDecodeDepth
// encodings in all, before a byte moves.
import { parseContentEncoding } from '../scan/decode';
import type { RuntimeConfig } from '../profile';
import { asUninspectable, enabledDecoders, inspectPayload, type ScanMeter } from './scan-support';
import type { FindingPlace, LocatedFinding, Uninspectable } from './verdict';

export interface BodyHeaders {
  contentEncoding?: string;
  contentType?: string;
}

export interface BodyInspection {
  findings: LocatedFinding[];
  uninspectable?: Uninspectable;
}

/**
 * The content codings to undo, or why the body cannot be decoded at all
 * (unknown coding, too many layers, a decoder the profile disabled).
 */
export function contentCodingsOf(cfg: RuntimeConfig, contentEncoding: string | undefined): { codings: string[] } | { uninspectable: Uninspectable } {
  let codings: string[];
  try {
    codings = parseContentEncoding(contentEncoding);
  } catch (err) {
    return { uninspectable: asUninspectable(err) };
  }
  const enabled = enabledDecoders(cfg);
  const disabled = codings.find((c) => !enabled.has(c));
  if (disabled !== undefined) {
    return { uninspectable: { code: 'KDLP_DECODER_DISABLED', reason: `content-encoding ${disabled} is not among the profile's decoders` } };
  }
  return { codings };
}

export function inspectCompleteBody(
  cfg: RuntimeConfig,
  meter: ScanMeter,
  body: Buffer,
  headers: BodyHeaders,
  place: FindingPlace,
): BodyInspection {
  if (body.length === 0) return { findings: [] };
  const coding = contentCodingsOf(cfg, headers.contentEncoding);
  // A body we cannot decode is still scanned as it is: an unknown coding
  // label on plain text is a known evasion.
  const encoded = !('uninspectable' in coding) && coding.codings.length > 0;
  const layers = encoded ? coding.codings.length : 0;
  const maxDepth = cfg.spec.inspection.maxDecodeDepth;
  if (layers > maxDepth) {
    return {
      findings: [],
      uninspectable: { code: 'KDLP_DECODE_DEPTH', reason: `content-encoding ${headers.contentEncoding ?? ''} stacks deeper than inspection.maxDecodeDepth (${maxDepth})` },
    };
  }
  const result = inspectPayload(cfg, meter, body, {
    source: 'body',
    contentType: headers.contentType,
    contentEncoding: encoded ? headers.contentEncoding : undefined,
    // Content codings count toward the depth: gzip(base64(x)) is two deep.
    maxDepth: maxDepth - layers,
  });
  const findings: LocatedFinding[] = result.findings.map((finding) => ({
    finding,
    place,
    unredactable: result.decodedBody
      ? `compressed body (content-encoding ${headers.contentEncoding ?? ''})`
      : finding.view !== undefined
        ? `only visible in a decoded view (${finding.view})`
        : undefined,
  }));
  return { findings, uninspectable: 'uninspectable' in coding ? coding.uninspectable : result.uninspectable };
}
