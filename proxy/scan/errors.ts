// Errors raised by the scan engine. Each carries a stable `code` so callers
// (profile validation, the CLI, the operator's status conditions) can map
// them without parsing messages. Messages name the detector and the reason,
// never the scanned bytes.
import { KdlpError } from '../errors/kdlp-error';

export class DetectorCompileError extends KdlpError {
  readonly code = 'KDLP_DETECTOR_INVALID';
  constructor(
    readonly detectorId: string,
    readonly reason: string,
    readonly patternIndex = 0,
  ) {
    super(`detector "${detectorId}": ${reason}`);
  }
}

export class EngineUnavailableError extends KdlpError {
  readonly code = 'KDLP_ENGINE_UNAVAILABLE';
  constructor(readonly engine: string, readonly reason: string) {
    super(`scan engine "${engine}" is unavailable: ${reason}`);
  }
}

/** Too many candidates in one call: callers that block must fail closed. */
export class ScanOverflowError extends KdlpError {
  readonly code = 'KDLP_SCAN_OVERFLOW';
  constructor(readonly limit: number) {
    super(`more than ${limit} candidate matches in one scan call; input treated as uninspectable`);
  }
}

export class StreamClosedError extends KdlpError {
  readonly code = 'KDLP_STREAM_CLOSED';
  constructor() {
    super('scan stream already ended');
  }
}
