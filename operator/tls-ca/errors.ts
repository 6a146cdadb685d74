// Errors of the tenant interception CA, with stable codes.
import { OperatorError } from '../errors';

export type TenantCaErrorCode = 'KDLP_TENANT_CA_MISSING' | 'KDLP_TENANT_CA_UNUSABLE' | 'KDLP_TENANT_CA_CONFLICT';

export class TenantCaError extends OperatorError {
  constructor(code: TenantCaErrorCode, message: string) {
    super(code, message);
    this.name = 'TenantCaError';
  }
}
