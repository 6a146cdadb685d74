// Errors raised while reading or validating a profile. Callers (the proxy at
// startup and on hot reload, the CLI, the operator's admission checks) map the
// stable `code` and show `issues`, each naming the offending field, so a user
// can fix every problem in one edit.
import { KdlpError } from '../errors/kdlp-error';

export type ProfileErrorCode = 'KDLP_PROFILE_INVALID' | 'KDLP_PROFILE_UNREADABLE' | 'KDLP_DETECTOR_INVALID';

export interface ProfileIssue {
  /** Dotted path into the document, e.g. `spec.egress.allow[1].cidr`; '' for the document itself. */
  path: string;
  /** Human-readable reason. Never contains secret values (profiles should hold none, and we never echo values). */
  message: string;
}

export class ProfileError extends KdlpError {
  constructor(
    readonly code: ProfileErrorCode,
    readonly issues: ProfileIssue[],
    /** File path or other label of where the profile came from. */
    readonly source?: string,
  ) {
    super(formatMessage(code, issues, source));
  }
}

function formatMessage(code: ProfileErrorCode, issues: ProfileIssue[], source?: string): string {
  const where = source ? ` (${source})` : '';
  const what =
    code === 'KDLP_PROFILE_UNREADABLE'
      ? 'profile could not be read'
      : code === 'KDLP_DETECTOR_INVALID'
        ? 'profile has an invalid detector'
        : 'profile is invalid';
  // One line, so a structured log keeps it whole; callers wanting a list use `issues`.
  const list = issues.map((i) => `${i.path === '' ? '(document)' : i.path}: ${i.message}`);
  return `${what}${where}: ${list.join('; ')}`;
}
