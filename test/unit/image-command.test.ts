// The command the webhook injects must exist in the image the Dockerfile
// builds: a mismatch ("executable file not found") only shows on a real node,
// after every injected pod fails to start. The e2e proves it on a node; this
// keeps the two files in step on every `make test`.
import t from 'tap';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DEFAULT_INJECTION_CONFIG } from '../../operator/inject/inject';

const ROOT = join(__dirname, '..', '..');
const dockerfile = readFileSync(join(ROOT, 'Dockerfile'), 'utf8').replace(/\\\n/g, ' ');
const finalStage = dockerfile.slice(dockerfile.lastIndexOf('\nFROM '));

t.test('the injected executable is the one the final image links onto PATH', async (t) => {
  const link = /\bln -s (\S+) \/usr\/local\/bin\/(\S+)/.exec(finalStage);
  t.ok(link, 'the final stage links the launcher into /usr/local/bin');
  if (!link) return;
  const [, target, name] = link;
  t.equal(DEFAULT_INJECTION_CONFIG.command[0], name, 'injected command');
  t.equal(target, '/app/bin/kube-dlp.js');
  t.match(finalStage, /COPY --from=build \/app\/bin\/ bin\//, 'the launcher is copied into /app/bin');
  const entrypoint = /^ENTRYPOINT (\[.*\])$/m.exec(finalStage);
  t.same(entrypoint && JSON.parse(entrypoint[1]), [name], 'the entry point runs the same executable');
});

t.test('runtime data the code reads from the tree is in the final image', async (t) => {
  // defaultTemplatePath() looks beside dist/ in operator/inject/.
  t.match(finalStage, /COPY --from=build \/app\/operator\/inject\/sidecar-template\.yaml operator\/inject\//, 'the sidecar template');
});

t.test('the launcher runs through a link on PATH, as in the image', async (t) => {
  const launcher = join(ROOT, 'bin', 'kube-dlp.js');
  t.ok(statSync(launcher).mode & 0o111, 'the launcher is executable (COPY keeps the mode)');
  const dir = mkdtempSync(join(tmpdir(), 'kube-dlp-path-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  symlinkSync(launcher, join(dir, DEFAULT_INJECTION_CONFIG.command[0]));
  const out = execFileSync(DEFAULT_INJECTION_CONFIG.command[0], ['--help'], {
    env: { ...process.env, PATH: `${dir}:${process.env.PATH}` },
    encoding: 'utf8',
  });
  t.match(out, /init-iptables/, 'the CLI behind the link lists its commands');
});

t.test('the launcher starts node with the V8 flags of its first line', async (t) => {
  // The sidecar's heap flags cannot go in NODE_OPTIONS (node refuses them),
  // so the launcher's `#!/usr/bin/env -S node FLAGS` line carries them: run
  // through a link on PATH, as the image runs it, node must see them.
  const launcher = join(ROOT, 'bin', 'kube-dlp.js');
  const shebang = readFileSync(launcher, 'utf8').split('\n', 1)[0];
  const m = /^#!\/usr\/bin\/env -S node (.+)$/.exec(shebang);
  t.ok(m, `env -S passes flags to node: ${shebang}`);
  if (!m) return;
  const flags = m[1].split(' ');
  t.ok(flags.includes('--initial-old-space-size=48'), 'the old generation starts at 48 MB');
  const dir = mkdtempSync(join(tmpdir(), 'kube-dlp-flags-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  symlinkSync(launcher, join(dir, DEFAULT_INJECTION_CONFIG.command[0]));
  // A preload reports what node started with; --help makes the CLI exit at once.
  const report = join(dir, 'exec-argv.json');
  const preload = join(dir, 'report.js');
  writeFileSync(preload, `require('node:fs').writeFileSync(${JSON.stringify(report)}, JSON.stringify(process.execArgv));\n`);
  execFileSync(DEFAULT_INJECTION_CONFIG.command[0], ['--help'], {
    env: { ...process.env, PATH: `${dir}:${process.env.PATH}`, NODE_OPTIONS: `--require=${preload}` },
    encoding: 'utf8',
  });
  t.same(JSON.parse(readFileSync(report, 'utf8')), flags, 'node got exactly the flags of the first line');
});
