// Errors of tenant isolation, with stable codes. Messages name fields and
// namespaces, never request content.
import { KdlpError } from '../errors/kdlp-error';

export type TenantDirectoryErrorCode = 'KDLP_TENANTS_INVALID' | 'KDLP_TENANTS_UNREADABLE';

export interface DirectoryIssue {
  /** Dotted path into the document, e.g. `addresses.3.cidr`; '' for the document. */
  path: string;
  message: string;
}

/** The tenant directory file is unreadable or invalid; on reload the previous directory stays in force. */
export class TenantDirectoryError extends KdlpError {
  constructor(
    readonly code: TenantDirectoryErrorCode,
    readonly issues: DirectoryIssue[],
    readonly source?: string,
  ) {
    const where = source ? ` (${source})` : '';
    const what = code === 'KDLP_TENANTS_UNREADABLE' ? 'tenant directory could not be read' : 'tenant directory is invalid';
    super(`${what}${where}: ${issues.map((i) => `${i.path === '' ? '(document)' : i.path}: ${i.message}`).join('; ')}`);
  }
}

/** A --cluster-domain value or identity flag is invalid. */
export class TenancyConfigError extends KdlpError {
  readonly code = 'KDLP_TENANCY_CONFIG';
  constructor(message: string) {
    super(message);
  }
}
