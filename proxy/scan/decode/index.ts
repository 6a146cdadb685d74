// Public API of the decoding pipeline: undo HTTP content codings under hard
// caps, and derive decoded text views (with maps back to raw offsets) for
// the DLP scanner.
export { DecodeError, isDecodeError, type DecodeErrorCode } from './errors';
export { parseContentEncoding, DEFAULT_MAX_ENCODINGS, type ContentCoding } from './content-encoding-header';
export {
  createContentDecoder,
  decodeContentSync,
  DEFAULT_RATIO_GRACE_BYTES,
  type DecodeLimits,
} from './content-encoding';
export {
  decodeViews,
  DEFAULT_MAX_DEPTH,
  DEFAULT_MAX_VIEWS,
  DEFAULT_TOTAL_BYTES_FACTOR,
  type DecodedView,
  type DecodeViewsResult,
  type ViewOptions,
} from './views';
export { normalizeText, detectUtf16, MIN_JOINED_DIGITS } from './normalize';
