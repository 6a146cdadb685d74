// The closed vocabularies the proxy reports with. They double as metric label
// values, so every member here is a bounded, documented label value; nothing
// request-derived (URLs, hosts, header values) may ever become one.

/** What happened to one request or tunnel, from the proxy's point of view. */
export type Decision =
  | 'allowed'
  | 'blocked'
  | 'redacted'
  | 'blocked_late'
  | 'denied_destination'
  | 'uninspected'
  | 'denied_cross_tenant'
  | 'error';

export const DECISIONS: readonly Decision[] = [
  'allowed',
  'blocked',
  'redacted',
  'blocked_late',
  'denied_destination',
  'uninspected',
  'denied_cross_tenant',
  'error',
];

/** Why a request was rejected before any policy applied (malformed, looping, ...). */
export type BadRequestReason =
  | 'malformed'
  | 'header_too_large'
  | 'invalid_chunked'
  | 'conflicting_length'
  | 'invalid_content_length'
  | 'invalid_transfer_encoding'
  | 'timeout'
  | 'origin_form'
  | 'loop'
  | 'bad_target'
  | 'unsupported_scheme'
  | 'http2_cleartext'
  | 'unsupported_upgrade'
  | 'misdirected';

export const BAD_REQUEST_REASONS: readonly BadRequestReason[] = [
  'malformed',
  'header_too_large',
  'invalid_chunked',
  'conflicting_length',
  'invalid_content_length',
  'invalid_transfer_encoding',
  'timeout',
  'origin_form',
  'loop',
  'bad_target',
  'unsupported_scheme',
  'http2_cleartext',
  'unsupported_upgrade',
  'misdirected',
];

/** Where in an exchange a client went away (reset or closed) before its outcome was complete. */
export type ClientAbortStage = 'before_decision' | 'hold_back' | 'forwarding';

export const CLIENT_ABORT_STAGES: readonly ClientAbortStage[] = ['before_decision', 'hold_back', 'forwarding'];
