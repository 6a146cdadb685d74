// client-node 1.x throws ApiException with the HTTP code and the response
// body as text; the apiserver's body is a metav1.Status whose message is the
// one to show (and to assert on).

export interface ApiStatus {
  /** HTTP status code, e.g. 409 or 422. */
  code: number;
  /** The apiserver's own message, e.g. 'Widget.x "a" is invalid: ...'. */
  message: string;
  /** metav1.Status reason, e.g. 'Conflict', 'Invalid', 'AlreadyExists'. */
  reason?: string;
}

/** The Status in a client-node ApiException, or undefined for other errors. */
export function apiStatusOf(err: unknown): ApiStatus | undefined {
  const e = err as { code?: unknown; body?: unknown };
  if (typeof e?.code !== 'number' || e.body === undefined) return undefined;
  let body: unknown = e.body;
  if (typeof body === 'string') {
    try {
      body = JSON.parse(body);
    } catch {
      return { code: e.code, message: body as string };
    }
  }
  const status = body as { message?: unknown; reason?: unknown };
  return {
    code: e.code,
    message: typeof status?.message === 'string' ? status.message : JSON.stringify(body),
    reason: typeof status?.reason === 'string' ? status.reason : undefined,
  };
}

/** For error messages: the apiserver's message when there is one. */
export function describeApiError(err: unknown): string {
  const status = apiStatusOf(err);
  if (status) return `HTTP ${status.code}: ${status.message}`;
  return err instanceof Error ? err.message : String(err);
}
