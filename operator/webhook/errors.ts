// Errors of the injection webhook, its TLS material and the rollout of
// running pods, each with a stable `code` (the operator's convention: callers,
// logs and tests branch on codes, never on messages).
import { KdlpError } from '../../proxy/errors/kdlp-error';

export type WebhookErrorCode =
  | 'KDLP_INJECT_TEMPLATE'
  | 'KDLP_WEBHOOK_OPTIONS'
  | 'KDLP_WEBHOOK_BAD_REQUEST'
  | 'KDLP_CERTS_ISSUE'
  | 'KDLP_CERTS_INVALID'
  | 'KDLP_CERTS_CONFLICT';

export class WebhookError extends KdlpError {
  constructor(
    readonly code: WebhookErrorCode,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

/** The sidecar template is malformed, or names a value that is not provided. */
export class TemplateError extends WebhookError {
  constructor(message: string) {
    super('KDLP_INJECT_TEMPLATE', message);
    this.name = 'TemplateError';
  }
}

/** Invalid webhook options (image, ports, failure policy...). */
export class WebhookOptionsError extends WebhookError {
  constructor(message: string) {
    super('KDLP_WEBHOOK_OPTIONS', message);
    this.name = 'WebhookOptionsError';
  }
}

/** An AdmissionReview that cannot be answered (not JSON, no request, no uid). */
export class BadAdmissionRequestError extends WebhookError {
  constructor(message: string) {
    super('KDLP_WEBHOOK_BAD_REQUEST', message);
    this.name = 'BadAdmissionRequestError';
  }
}

/** A key or certificate cannot be made from the request (bad name, validity, or signing CA). */
export class CertificateIssueError extends WebhookError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('KDLP_CERTS_ISSUE', message, options);
    this.name = 'CertificateIssueError';
  }
}

/** Certificates in the Secret (or mounted files) cannot be read or do not belong together. */
export class CertificateError extends WebhookError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('KDLP_CERTS_INVALID', message, options);
    this.name = 'CertificateError';
  }
}
