import { EnvtestError } from './errors';

export interface WaitOptions {
  /** Give up after this long. Not a test assertion: a bound on a hang. */
  timeoutMs?: number;
  intervalMs?: number;
  /** Named in the timeout error, e.g. 'CRD widgets.example.com Established'. */
  what: string;
}

/** What a condition answers: a value when done; undefined or false for "not yet". */
export type WaitCondition<T> = () => T | undefined | false | Promise<T | undefined | false>;

/**
 * The one polling loop the tests use. Polls `condition` until it returns a
 * value other than undefined/false and returns that value. Errors thrown by
 * `condition` count as "not yet"; the last one is attached to the timeout
 * error, which names what was awaited so a hung test says what it hung on.
 */
export async function waitFor<T>(condition: WaitCondition<T>, options: WaitOptions): Promise<Exclude<T, undefined | false>> {
  const timeoutMs = options.timeoutMs ?? 30_000;
  const interval = options.intervalMs ?? 100;
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown;
  for (;;) {
    try {
      const value = await condition();
      if (value !== undefined && value !== false) return value as Exclude<T, undefined | false>;
      lastError = undefined;
    } catch (err) {
      lastError = err;
    }
    if (Date.now() >= deadline) {
      const detail = lastError instanceof Error ? `: last error: ${lastError.message}` : '';
      throw new EnvtestError('KDLP_ENVTEST_TIMEOUT', `timed out waiting for ${options.what}${detail}`, {
        cause: lastError,
      });
    }
    await new Promise((resolve) => setTimeout(resolve, interval));
  }
}
