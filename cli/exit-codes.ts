// Exit codes shared by every command, as build pipelines depend on them.
import { KdlpError } from '../proxy/errors/kdlp-error';

export const EXIT_OK = 0;
/** Something at or above the --fail-on threshold was found. */
export const EXIT_FINDINGS = 1;
/** Usage or input error: bad flags, unreadable file, invalid profile. */
export const EXIT_USAGE = 2;

/** An error the user caused and can fix; printed without a stack. */
export class UsageError extends KdlpError {
  readonly code = 'KDLP_USAGE';
  constructor(message: string) {
    super(message);
  }
}
