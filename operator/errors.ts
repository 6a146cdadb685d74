// Every error the operator raises, each with a stable `code` (undici style):
// callers, logs and tests branch on codes, never on messages.
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
  | 'KDLP_TENANT_CA_CONFLICT';

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
