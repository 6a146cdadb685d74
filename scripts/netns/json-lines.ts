// Reads a child's stdout as JSON lines (what upstream.js, app.js and the
// proxy's audit log print) and lets a test wait for a line it expects.
import type { ChildProcess } from 'node:child_process';

export interface JsonLineWatcher<T = Record<string, unknown>> {
  readonly lines: T[];
  /** Everything the child wrote to stderr so far (for failure messages). */
  stderr(): string;
  /** Resolves with the first line (past or future) matching; rejects if the child exits first. */
  waitFor(match: (line: T) => boolean, what: string): Promise<T>;
}

export function watchJsonLines<T = Record<string, unknown>>(child: ChildProcess): JsonLineWatcher<T> {
  const lines: T[] = [];
  let err = '';
  let buffered = '';
  let exited: string | undefined;
  let waiters: Array<{ match: (l: T) => boolean; resolve: (l: T) => void; reject: (e: Error) => void; what: string }> = [];
  child.stdout?.setEncoding('utf8').on('data', (d: string) => {
    buffered += d;
    let nl: number;
    while ((nl = buffered.indexOf('\n')) >= 0) {
      const text = buffered.slice(0, nl).trim();
      buffered = buffered.slice(nl + 1);
      if (text === '') continue;
      let line: T;
      try {
        line = JSON.parse(text) as T;
      } catch {
        continue; // not ours (e.g. a library's plain-text warning)
      }
      lines.push(line);
      waiters = waiters.filter((w) => (w.match(line) ? (w.resolve(line), false) : true));
    }
  });
  child.stderr?.setEncoding('utf8').on('data', (d: string) => {
    err += d;
  });
  child.once('exit', (code, signal) => {
    exited = `exited (${code ?? signal})`;
    for (const w of waiters) w.reject(new Error(`waiting for ${w.what}: child ${exited}; stderr: ${err.slice(-2000)}`));
    waiters = [];
  });
  return {
    lines,
    stderr: () => err,
    waitFor(match, what) {
      const seen = lines.find(match);
      if (seen) return Promise.resolve(seen);
      if (exited) return Promise.reject(new Error(`waiting for ${what}: child ${exited}; stderr: ${err.slice(-2000)}`));
      return new Promise((resolve, reject) => waiters.push({ match, resolve, reject, what }));
    },
  };
}
