// The harness's own moving parts, checked without kube-apiserver or etcd:
// certificates, CRD file reading, waiting, attaching, build-assets.sh's
// decisions, and that owned processes die however their owner ends.

import t, { type Test } from 'tap';
import { spawn, spawnSync } from 'node:child_process';
import { X509Certificate } from 'node:crypto';
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, symlinkSync, writeFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { attachControlPlane } from '../envtest/control-plane';
import { readCRDs } from '../envtest/crds';
import { EnvtestError } from '../envtest/errors';
import { createCertificateAuthority, createWebhookServingCert } from '../envtest/pki';
import { ProcessGroupRun, RUNS_DIR, reapStaleRuns } from '../envtest/process-groups';
import { waitFor } from '../envtest/wait';

const ROOT = join(__dirname, '..', '..');
const BUILD_SCRIPT = join(ROOT, 'test', 'envtest', 'build-assets.sh');
const OWNER_FIXTURE = join(ROOT, 'test', 'fixtures', 'envtest', 'process-owner', 'owner.ts');

function scratch(t: Test): string {
  const dir = mkdtempSync(join(tmpdir(), 'kdlp-harness-test-'));
  t.teardown(() => spawnSync('rm', ['-rf', dir]));
  return dir;
}

/** Running = exists and is not a zombie waiting for a reaper. */
function isRunning(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2)[0] !== 'Z';
  } catch {
    return false;
  }
}

t.test('PKI', async (t) => {
  const ca = await createCertificateAuthority('harness-test-ca');
  const caCert = new X509Certificate(ca.certPem);
  t.ok(caCert.ca, 'CA certificate is a CA');

  const serving = await ca.issue({
    commonName: '127.0.0.1',
    altNames: ['IP:127.0.0.1', 'DNS:localhost'],
    usage: 'server',
  });
  const servingCert = new X509Certificate(serving.certPem);
  t.ok(servingCert.verify(caCert.publicKey), 'signed by the CA');
  t.ok(servingCert.checkIP('127.0.0.1'), 'valid for 127.0.0.1');
  t.ok(servingCert.checkHost('localhost'), 'valid for localhost');
  t.notOk(servingCert.checkHost('example.com'));
  t.same(servingCert.keyUsage, ['1.3.6.1.5.5.7.3.1'], 'serverAuth only');
  t.ok(servingCert.checkPrivateKey(await import('node:crypto').then((c) => c.createPrivateKey(serving.keyPem))));

  const client = await ca.issue({ commonName: 'someone', organization: 'system:masters', usage: 'client' });
  const clientCert = new X509Certificate(client.certPem);
  t.match(clientCert.subject, /O=system:masters/);
  t.match(clientCert.subject, /CN=someone/);
  t.same(clientCert.keyUsage, ['1.3.6.1.5.5.7.3.2'], 'clientAuth only');

  const webhook = await createWebhookServingCert();
  const webhookCert = new X509Certificate(webhook.certPem);
  t.ok(webhookCert.verify(new X509Certificate(webhook.caPem).publicKey));
  t.notOk(webhookCert.verify(caCert.publicKey), 'webhook certs have a CA of their own');
});

t.test('readCRDs', async (t) => {
  const dir = scratch(t);
  const crd = (name: string): string =>
    `apiVersion: apiextensions.k8s.io/v1\nkind: CustomResourceDefinition\nmetadata:\n  name: ${name}\n`;
  writeFileSync(join(dir, 'b.yaml'), `---\n${crd('b.example.test')}---\n${crd('c.example.test')}---\n`);
  writeFileSync(join(dir, 'a.yml'), crd('a.example.test'));
  writeFileSync(join(dir, 'notes.txt'), 'ignored: true\n');
  t.same(
    (await readCRDs(dir)).map((c) => c.metadata?.name),
    ['a.example.test', 'b.example.test', 'c.example.test'],
    'all documents, in file-name order, empty ones skipped',
  );

  writeFileSync(join(dir, 'c.yaml'), 'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: x\n');
  await t.rejects(readCRDs(dir), { code: 'KDLP_ENVTEST_CRD', message: /c\.yaml: .*found kind ConfigMap/ });

  writeFileSync(join(dir, 'c.yaml'), 'kind: [unclosed\n');
  await t.rejects(readCRDs(dir), { code: 'KDLP_ENVTEST_CRD', message: /c\.yaml/ });
});

t.test('waitFor', async (t) => {
  let calls = 0;
  t.equal(await waitFor(async () => (++calls >= 3 ? 'done' : undefined), { what: 'x', intervalMs: 1 }), 'done');
  t.equal(calls, 3);
  await t.rejects(
    waitFor(
      async () => {
        throw new Error('still broken');
      },
      { what: 'the thing', timeoutMs: 30, intervalMs: 5 },
    ),
    { code: 'KDLP_ENVTEST_TIMEOUT', message: 'timed out waiting for the thing: last error: still broken' },
  );
});

t.test('attachControlPlane refuses what it cannot use', async (t) => {
  const dir = scratch(t);
  await t.rejects(attachControlPlane(join(dir, 'missing')), { code: 'KDLP_ENVTEST_REUSE' });

  const tokenOnly = join(dir, 'token-kubeconfig');
  writeFileSync(
    tokenOnly,
    [
      'apiVersion: v1',
      'kind: Config',
      'clusters: [{name: c, cluster: {server: "https://127.0.0.1:1"}}]',
      'users: [{name: u, user: {token: abc}}]',
      'contexts: [{name: x, context: {cluster: c, user: u}}]',
      'current-context: x',
    ].join('\n'),
  );
  await t.rejects(attachControlPlane(tokenOnly), { code: 'KDLP_ENVTEST_REUSE', message: /embedded CA/ });
});

t.test('build-assets.sh', async (t) => {
  // Only these tools are reachable, so no Go can be found by accident.
  const bin = scratch(t);
  for (const tool of ['bash', 'dirname', 'sed', 'head', 'cat', 'mkdir']) {
    const found = spawnSync('bash', ['-c', `command -v ${tool}`], { encoding: 'utf8' }).stdout.trim();
    symlinkSync(found, join(bin, tool));
  }
  const gomod = readFileSync(join(ROOT, 'test/envtest/modules/kube-apiserver/go.mod'), 'utf8');
  const etcdmod = readFileSync(join(ROOT, 'test/envtest/modules/etcd/go.mod'), 'utf8');
  const k8s = /\sk8s\.io\/kubernetes (v\S+)/.exec(gomod)?.[1];
  const etcd = /\sgo\.etcd\.io\/etcd\/server\/v3 (v\S+)/.exec(etcdmod)?.[1];
  t.ok(k8s && etcd, 'versions pinned in the wrapper modules');

  const runScript = (env: Record<string, string>) =>
    spawnSync(join(bin, 'bash'), [BUILD_SCRIPT], { encoding: 'utf8', env: { PATH: bin, HOME: '/nonexistent', ...env } });
  const fakeAssets = (dir: string): string => {
    mkdirSync(dir, { recursive: true });
    for (const name of ['kube-apiserver', 'etcd']) {
      writeFileSync(join(dir, name), '#!/bin/sh\n');
      chmodSync(join(dir, name), 0o755);
    }
    return dir;
  };

  const provided = fakeAssets(join(scratch(t), 'provided'));
  const usesProvided = runScript({ KUBEBUILDER_ASSETS: provided });
  t.equal(usesProvided.status, 0);
  t.equal(usesProvided.stdout.trim(), provided, 'KUBEBUILDER_ASSETS is used as is');

  const incomplete = scratch(t);
  const refusesIncomplete = runScript({ KUBEBUILDER_ASSETS: incomplete });
  t.equal(refusesIncomplete.status, 2);
  t.match(refusesIncomplete.stderr, 'does not contain executable kube-apiserver and etcd');

  const cacheHome = scratch(t);
  const cached = fakeAssets(join(cacheHome, 'kube-dlp', 'k8s-assets', `${k8s}-${etcd}`));
  const noStamp = runScript({ XDG_CACHE_HOME: cacheHome });
  t.equal(noStamp.status, 3, 'binaries without the stamp are not trusted (and Go is missing)');
  t.match(noStamp.stderr, 'Go is not installed and KUBEBUILDER_ASSETS is not set');
  t.match(noStamp.stderr, 'https://go.dev/dl/');
  t.match(noStamp.stderr, /NOT 'apt-get install golang' on Debian 12/);
  t.equal(noStamp.stdout, '', 'nothing on stdout for callers to mistake for a folder');

  writeFileSync(join(cached, '.kube-dlp-assets-complete'), 'test\n');
  const warm = runScript({ XDG_CACHE_HOME: cacheHome });
  t.equal(warm.status, 0);
  t.equal(warm.stdout.trim(), cached, 'a stamped cache entry is used without Go');
});

interface Owner {
  pid: number;
  pgid: number;
  exited: Promise<void>;
}

function startOwner(t: Test, mode: string): Promise<Owner> {
  return new Promise((resolve, reject) => {
    // execArgv carries tap's TypeScript loader to the child.
    const child = spawn(process.execPath, [...process.execArgv, OWNER_FIXTURE, mode], {
      stdio: ['ignore', 'pipe', 'ignore'],
    });
    // If an assertion fails first, do not leave the owner (and its sleep) behind.
    t.teardown(() => {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
      reapStaleRuns();
    });
    const exited = new Promise<void>((r) => child.once('exit', () => r()));
    let out = '';
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
      out += chunk;
      const line = out.split('\n')[0];
      if (out.includes('\n')) resolve({ pid: child.pid!, pgid: Number(line), exited });
    });
    child.once('error', reject);
    void exited.then(() => {
      if (!out.includes('\n')) reject(new Error(`owner fixture (${mode}) exited without reporting its child`));
    });
  });
}

const dies = (pgid: number) => waitFor(async () => !isRunning(pgid), { what: `process group ${pgid} to die`, timeoutMs: 10_000 });

for (const mode of ['exit', 'throw', 'reject']) {
  t.test(`owned process groups die when the owner ends by ${mode}`, async (t) => {
    const owner = await startOwner(t, mode);
    t.ok(owner.pgid > 0);
    await owner.exited;
    await dies(owner.pgid);
    t.notOk(existsSync(join(RUNS_DIR, `owner-fixture-${owner.pid}.json`)), 'run record removed');
  });
}

for (const signal of ['SIGTERM', 'SIGINT'] as const) {
  t.test(`owned process groups die when the owner gets ${signal}`, async (t) => {
    const owner = await startOwner(t, 'wait');
    t.ok(isRunning(owner.pgid), 'child runs while the owner lives');
    process.kill(owner.pid, signal);
    // Bounded so a process that ignores the signal fails here, not at tap's timeout.
    await Promise.race([
      owner.exited,
      new Promise((_, reject) => setTimeout(() => reject(new Error(`owner ignored ${signal}`)), 15_000).unref()),
    ]);
    await dies(owner.pgid);
  });
}

t.test('a SIGKILLed owner is cleaned up by the next reapStaleRuns()', async (t) => {
  const owner = await startOwner(t, 'sigkill');
  await owner.exited;
  t.ok(isRunning(owner.pgid), 'nothing could clean up on SIGKILL');
  const record = join(RUNS_DIR, `owner-fixture-${owner.pid}.json`);
  t.ok(existsSync(record), 'the run record outlives its owner');
  t.ok(reapStaleRuns() >= 1);
  await dies(owner.pgid);
  t.notOk(existsSync(record));
});

t.test('reapStaleRuns leaves live runs alone', async (t) => {
  const run = new ProcessGroupRun(`harness-test-${process.pid}`);
  t.teardown(() => run.killNow());
  const dir = scratch(t);
  run.ownDir(dir);
  const sleeper = run.spawn('/bin/sleep', ['300'], '/dev/null');
  reapStaleRuns();
  t.ok(isRunning(sleeper.pgid), 'the group of a live owner keeps running');
  t.ok(existsSync(dir));
  await run.stop(1000);
  await dies(sleeper.pgid);
  t.notOk(existsSync(dir), 'stop() removes owned folders');
});
