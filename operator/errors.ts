// Every error the operator raises (reconciler, kube client, webhook and its
// certificates, tenant interception CA), each with a stable `code` (undici
// style): callers, logs and tests branch on codes, never on messages. One
// module, so a new code is checked against all the others.
import { KdlpError } from '../proxy/errors/kdlp-error';

export type OperatorErrorCode =
  | 'KDLP_CRD_SCHEMA'
  | 'KDLP_KUBE_API'
  | 'KDLP_KUBE_CONFIG'
  | 'KDLP_OPERATOR_OPTIONS'
  | 'KDLP_OPERATOR_FORBIDDEN'
  | 'KDLP_LEADER_LOST'
  | 'KDLP_RECONCILE_TERMINAL'
  | 'KDLP_QUEUE_SHUT_DOWN'
  | 'KDLP_TENANT_CA_MISSING'
  | 'KDLP_TENANT_CA_UNUSABLE'
  | 'KDLP_TENANT_CA_CONFLICT'
  | 'KDLP_INJECT_TEMPLATE'
  | 'KDLP_WEBHOOK_OPTIONS'
  | 'KDLP_WEBHOOK_BAD_REQUEST'
  | 'KDLP_CERTS_ISSUE'
  | 'KDLP_CERTS_INVALID';

export class OperatorError extends KdlpError {
  constructor(
    readonly code: OperatorErrorCode,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

/** The TypeBox schema cannot be turned into a CRD schema (a CEL rule names a missing field, ...). */
export class CrdSchemaError extends OperatorError {
  constructor(message: string) {
    super('KDLP_CRD_SCHEMA', message);
    this.name = 'CrdSchemaError';
  }
}

/**
 * A request to the API server failed. `status` is the HTTP status (0 when
 * no answer arrived); `reason` is metav1.Status's reason when there was one.
 */
export class KubeApiError extends OperatorError {
  constructor(
    readonly verb: string,
    readonly path: string,
    override readonly status: number,
    readonly reason: string | undefined,
    readonly apiMessage: string,
    options?: { cause?: unknown },
  ) {
    super('KDLP_KUBE_API', `${verb} ${path}: ${status === 0 ? 'no answer' : `HTTP ${status}`}: ${apiMessage}`, options);
  }

  get notFound(): boolean {
    return this.status === 404;
  }

  get conflict(): boolean {
    return this.status === 409;
  }

  get gone(): boolean {
    return this.status === 410;
  }

  /** Worth retrying as is: conflicts, throttling, server errors and lost connections. */
  get retryable(): boolean {
    return this.status === 0 || this.status === 409 || this.status === 429 || this.status >= 500;
  }
}

/** No usable kubeconfig (neither the file given nor in-cluster credentials). */
export class KubeConfigError extends OperatorError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('KDLP_KUBE_CONFIG', message, options);
    this.name = 'KubeConfigError';
  }
}

/** Invalid operator options (flags), with a hint for the likely mistake. */
export class OperatorOptionsError extends OperatorError {
  constructor(message: string) {
    super('KDLP_OPERATOR_OPTIONS', message);
    this.name = 'OperatorOptionsError';
  }
}

/** The operator's identity lacks permissions it needs; lists every missing one. */
export class PermissionError extends OperatorError {
  constructor(readonly missing: readonly string[]) {
    super('KDLP_OPERATOR_FORBIDDEN', `missing permissions (see config/rbac): ${missing.join('; ')}`);
    this.name = 'PermissionError';
  }
}

/** Leadership was lost (renewal failed past the deadline, or another holder took the Lease). */
export class LeaderLostError extends OperatorError {
  constructor(message: string) {
    super('KDLP_LEADER_LOST', message);
    this.name = 'LeaderLostError';
  }
}

/**
 * A reconcile failure that retrying cannot fix (a pattern that will never
 * compile): reported in status and Events, and not requeued.
 */
export class TerminalReconcileError extends OperatorError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('KDLP_RECONCILE_TERMINAL', message, options);
    this.name = 'TerminalReconcileError';
  }
}

export class QueueShutDownError extends OperatorError {
  constructor() {
    super('KDLP_QUEUE_SHUT_DOWN', 'work queue is shut down');
    this.name = 'QueueShutDownError';
  }
}

// The injection webhook, its sidecar template and its TLS material.

/** The sidecar template is malformed, or names a value that is not provided. */
export class TemplateError extends OperatorError {
  constructor(message: string) {
    super('KDLP_INJECT_TEMPLATE', message);
    this.name = 'TemplateError';
  }
}

/** Invalid webhook options (image, ports, failure policy...). */
export class WebhookOptionsError extends OperatorError {
  constructor(message: string) {
    super('KDLP_WEBHOOK_OPTIONS', message);
    this.name = 'WebhookOptionsError';
  }
}

/** An AdmissionReview that cannot be answered (not JSON, no request, no uid). */
export class BadAdmissionRequestError extends OperatorError {
  constructor(message: string) {
    super('KDLP_WEBHOOK_BAD_REQUEST', message);
    this.name = 'BadAdmissionRequestError';
  }
}

/** A key or certificate cannot be made from the request (bad name, validity, or signing CA). */
export class CertificateIssueError extends OperatorError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('KDLP_CERTS_ISSUE', message, options);
    this.name = 'CertificateIssueError';
  }
}

/** Certificates in the Secret (or mounted files) cannot be read or do not belong together. */
export class CertificateError extends OperatorError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('KDLP_CERTS_INVALID', message, options);
    this.name = 'CertificateError';
  }
}

/** The tenant interception CA cannot be found, used, or written. */
export class TenantCaError extends OperatorError {
  constructor(code: 'KDLP_TENANT_CA_MISSING' | 'KDLP_TENANT_CA_UNUSABLE' | 'KDLP_TENANT_CA_CONFLICT', message: string) {
    super(code, message);
    this.name = 'TenantCaError';
  }
}
