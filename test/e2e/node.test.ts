// The e2e on a real node (test/node/e2e.sh, also `make e2e`), counted in
// `make test`: each "PROVED:" line of the script is an assertion here, and a
// run that could not start (not root, a build that failed, a node that did
// not come up) is a failure with the script's reason, never a skip.
import t from 'tap';
import { spawn } from 'node:child_process';
import { join } from 'node:path';

const SCRIPT = join(__dirname, '..', 'node', 'e2e.sh');
// Under tap's per-file timeout (900 s, package.json): `make test` runs the
// builds beforehand (e2e.sh --prepare), so what is left is the cluster and
// the journey. Run alone with a cold cache, use `make e2e` instead.
const LIMIT_MS = 14 * 60_000;

t.test('make e2e: install, Protect (transparent) and Monitor (explicit), profile deletion, opt-out, Helm and bypass attempts on a real node', async (t) => {
  const child = spawn('bash', [SCRIPT], { stdio: ['ignore', 'pipe', 'pipe'], detached: true });
  const lines: string[] = [];
  let partial = '';
  const onData = (chunk: Buffer) => {
    process.stderr.write(chunk);
    partial += chunk.toString('utf8');
    const parts = partial.split('\n');
    partial = parts.pop()!;
    lines.push(...parts);
  };
  child.stdout.on('data', onData);
  child.stderr.on('data', onData);
  const timer = setTimeout(() => process.kill(-child.pid!, 'SIGTERM'), LIMIT_MS);
  const code = await new Promise<number | string>((resolve) => child.once('exit', (c, s) => resolve(c ?? s ?? 'unknown')));
  clearTimeout(timer);
  if (partial) lines.push(partial);
  const proved = lines.filter((l) => l.startsWith('PROVED: '));
  for (const p of proved) t.pass(p.slice('PROVED: '.length));
  const failed = lines.find((l) => l.startsWith('FAILED: '));
  t.equal(code, 0, failed ? failed.slice('FAILED: '.length) : `e2e.sh exited with ${code}`);
  t.ok(lines.includes('E2E PASSED'), 'the script reached its end');
});
