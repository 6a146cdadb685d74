// Runs a command as an unprivileged uid (the sidecar's 1337) from any
// checkout, for the network-namespace tests.
//
// Two things break when the tests run as root from a checkout other users
// cannot enter (a clone under a 0700 home or `mktemp -d`):
//  - the unprivileged process cannot traverse to the checkout's files, and
//  - it inherits tap's NODE_OPTIONS, whose loader lives in that checkout, so
//    node fails before running anything (ERR_MODULE_NOT_FOUND).
// So the command runs in its own mount namespace where the checkout is
// bind-mounted on a world-traversable directory (a "view"; nothing is
// copied and the mount vanishes with the process), with a clean environment.
// The checkout's files must still be readable by others (a clone made with
// umask 022 is); when they are not, `probe()` says exactly what to run.
import { chmodSync, existsSync, mkdtempSync, rmdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { isAbsolute, join, relative } from 'node:path';
import { run } from './topology';

export const PROXY_UID = 1337;

export interface Unprivileged {
  /** Where a file of the checkout is seen by the unprivileged process. */
  path(inCheckout: string): string;
  /** argv that runs `command` as the uid, from the view, with a clean environment (prefix it with `ip netns exec` as usual). */
  argv(command: string[], env?: Record<string, string>): string[];
  /** Fails, naming the fix, unless node running as the uid can read `file` (of the checkout) through the view. */
  probe(file: string): Promise<void>;
  remove(): void;
}

export function unprivileged(checkout: string, uid = PROXY_UID): Unprivileged {
  const view = mkdtempSync(join(tmpdir(), 'kdlp-view-'));
  chmodSync(view, 0o755);
  const path = (inCheckout: string) => {
    const rel = relative(checkout, inCheckout);
    if (rel.startsWith('..') || isAbsolute(rel)) throw new Error(`${inCheckout} is not inside the checkout ${checkout}`);
    return join(view, rel);
  };
  const argv = (command: string[], env: Record<string, string> = {}) => [
    'unshare', '--mount', '--propagation', 'private',
    'sh', '-c', 'mount --bind "$1" "$2" && shift 2 && exec "$@"', 'kdlp-view', checkout, view,
    'env', '-i', `PATH=${process.env.PATH ?? '/usr/bin:/bin'}`, ...Object.entries(env).map(([k, v]) => `${k}=${v}`),
    'setpriv', `--reuid=${uid}`, `--regid=${uid}`, '--clear-groups',
    ...command,
  ];
  return {
    path,
    argv,
    async probe(file: string) {
      const r = await run(argv(['node', '-e', `require('node:fs').readFileSync(${JSON.stringify(path(file))})`]));
      if (r.code === 0) return;
      // The caller's teardown may never run when this ends the test file.
      rmdirSync(view);
      throw new Error(
        `uid ${uid} cannot read ${file} from this checkout (${lastLine(r.stderr)}). ` +
          `The checkout's files must be readable by other users: run \`chmod -R o+rX ${checkout}\` ` +
          '(or clone with umask 022), then rerun.',
      );
    },
    // Never recursive: were the view ever mounted here, that would delete the checkout.
    remove: () => existsSync(view) && rmdirSync(view),
  };
}

function lastLine(text: string): string {
  const lines = text.trim().split('\n').filter((l) => /Error|EACCES|denied/i.test(l));
  return (lines[0] ?? text.trim().split('\n').pop() ?? 'no output').slice(0, 300);
}
