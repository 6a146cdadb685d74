// `kube-dlp proxy` as a process, from the compiled CLI (`make test` builds
// first): identity from the downward-API environment, the sample Protect
// profile, an audit file, and a clean exit on SIGTERM.
import t from 'tap';
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { curl, startUpstream } from './proxy-harness';
import { InterceptCa } from '../../proxy/tls/intercept-ca';

const ROOT = join(__dirname, '..', '..');

t.test('kube-dlp proxy runs, enforces the sample profile, and drains on SIGTERM', async (t) => {
  if (!existsSync(join(ROOT, 'dist', 'cli', 'main.js'))) {
    t.fail('dist/ is missing: run `npm run build` (make test does) before this test');
    return;
  }
  const upstream = await startUpstream();
  t.teardown(() => upstream.close());
  const dir = mkdtempSync(join(tmpdir(), 'kdlp-cli-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const auditFile = join(dir, 'audit.log');
  const child = spawn(
    process.execPath,
    [
      join(ROOT, 'bin', 'kube-dlp.js'),
      'proxy',
      '--profile',
      join(ROOT, 'config', 'samples', 'securityprofile-protect.yaml'),
      '--listen',
      '127.0.0.1:0',
      '--admin',
      '127.0.0.1:0',
      '--audit-log',
      auditFile,
    ],
    { env: { ...process.env, POD_NAME: 'checkout-7d9f', POD_NAMESPACE: 'payments', KUBEDLP_TENANT: 'acme' }, stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let stderr = '';
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  const listening = await new Promise<{ listen: { port: number }; admin: { port: number } }>((resolve, reject) => {
    child.stderr.on('data', (d) => {
      stderr += d;
      const line = stderr.split('\n').find((l) => l.includes('"proxy listening"'));
      if (line) resolve(JSON.parse(line));
    });
    child.on('exit', () => reject(new Error(`exited early: ${stderr}`)));
  });
  const proxy = `http://127.0.0.1:${listening.listen.port}`;
  const target = `http://127.0.0.1:${upstream.port}`;

  const allowed = await curl(['-o', '/dev/null', '-w', '%{http_code}', '-x', proxy, `${target}/ok`]);
  t.equal(allowed.stdout, '200');
  const blocked = await curl(['-w', '\n%{http_code}', '-x', proxy, '-H', 'content-type: application/json', '--data', '{"card":"4111 1111 1111 1111"}', `${target}/pay`]);
  const [body, code] = blocked.stdout.split('\n');
  t.equal(code, '403');
  t.match(JSON.parse(body), { error: 'blocked', detectors: ['pci.card-number'] });
  const metrics = await curl([`http://127.0.0.1:${listening.admin.port}/metrics`]);
  t.match(metrics.stdout, /kubedlp_proxy_requests_total\{namespace="payments",tenant="acme",profile="protect-payments",decision="blocked"\} 1/);

  child.kill('SIGTERM');
  t.equal(await exited, 0, 'clean exit after draining');
  const audit = readFileSync(auditFile, 'utf8').trim().split('\n').map((l) => JSON.parse(l));
  t.match(audit[0], { pod: 'checkout-7d9f', namespace: 'payments', tenant: 'acme', decision: 'blocked', path: '/pay' });
  t.notMatch(readFileSync(auditFile, 'utf8'), /4111 1111 1111 1111/);
  t.match(stderr, /"msg":"proxy stopped"/);
});

t.test('bad flags and an invalid profile are usage errors (exit 2)', async (t) => {
  if (!existsSync(join(ROOT, 'dist', 'cli', 'main.js'))) {
    t.fail('dist/ is missing: run `npm run build` first');
    return;
  }
  const run = (args: string[]) =>
    new Promise<{ code: number | null; stderr: string }>((resolve) => {
      const child = spawn(process.execPath, [join(ROOT, 'bin', 'kube-dlp.js'), 'proxy', ...args], { stdio: ['ignore', 'ignore', 'pipe'] });
      let stderr = '';
      child.stderr.on('data', (d) => (stderr += d));
      child.on('exit', (code) => resolve({ code, stderr }));
    });
  const badListen = await run(['--profile', join(ROOT, 'config', 'samples', 'securityprofile-protect.yaml'), '--listen', 'nonsense']);
  t.equal(badListen.code, 2);
  t.match(badListen.stderr, /--listen must be host:port/);
  const badRelease = await run(['--profile', join(ROOT, 'config', 'samples', 'securityprofile-protect.yaml'), '--release-memory-after', '-1']);
  t.equal(badRelease.code, 2);
  t.match(badRelease.stderr, /--release-memory-after must be a number of seconds \(0: off\)/);
  const badTtl = await run(['--profile', join(ROOT, 'config', 'samples', 'securityprofile-protect.yaml'), '--dns-cache-ttl', 'soon']);
  t.equal(badTtl.code, 2);
  t.match(badTtl.stderr, /--dns-cache-ttl must be a number of seconds \(0: off\)/);
  const dir = mkdtempSync(join(tmpdir(), 'kdlp-cli-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const missing = await run(['--profile', join(dir, 'absent.yaml'), '--admin', 'off']);
  t.equal(missing.code, 2);
  t.match(missing.stderr, /profile could not be read/);
});

t.test('the CLI loads the operator and its Kubernetes client only for the commands that use them', async (t) => {
  if (!existsSync(join(ROOT, 'dist', 'cli', 'main.js'))) {
    t.fail('dist/ is missing: run `npm run build` first');
    return;
  }
  // Every injected sidecar runs this CLI as `kube-dlp proxy`: what the program
  // loads before a command runs is paid in every pod (memory, start-up).
  const loaded = await new Promise<string>((resolve, reject) => {
    const script = `require(${JSON.stringify(join(ROOT, 'dist', 'cli', 'main.js'))}).buildProgram();
      process.stdout.write(JSON.stringify(Object.keys(require.cache)));`;
    const child = spawn(process.execPath, ['-e', script], { stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    child.stdout.on('data', (d) => (out += d));
    child.on('error', reject);
    child.on('exit', () => resolve(out));
  });
  const modules = JSON.parse(loaded) as string[];
  t.ok(modules.some((m) => m.includes(join('dist', 'proxy', 'start-proxy'))), 'precondition: the proxy command is loaded');
  t.notOk(modules.some((m) => m.includes(join('node_modules', '@kubernetes', 'client-node'))), 'no @kubernetes/client-node');
  t.notOk(modules.some((m) => m.includes(join('dist', 'operator', 'run'))), 'no operator/run');
  t.notOk(modules.some((m) => m.includes(join('node_modules', 'libphonenumber-js'))), 'no phone numbering plans (an opt-in detector loads them on first use)');
});

t.test('a running sidecar loads X.509 code only to intercept, never the CA generator, and no TypeBox', async (t) => {
  if (!existsSync(join(ROOT, 'dist', 'cli', 'main.js'))) {
    t.fail('dist/ is missing: run `npm run build` first');
    return;
  }
  const dir = mkdtempSync(join(tmpdir(), 'kdlp-cli-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const ca = await InterceptCa.create({ commonName: 'cli test CA', lifetimeMs: 86_400_000 });
  writeFileSync(join(dir, 'tls.crt'), ca.certPem);
  writeFileSync(join(dir, 'tls.key'), ca.keyPem);
  /** The modules a started `kube-dlp proxy` holds once it listens. */
  const modulesOfRunningProxy = (extra: string[]) =>
    new Promise<string[]>((resolve, reject) => {
      const args = ['proxy', '--profile', join(ROOT, 'config', 'samples', 'securityprofile-protect.yaml'), '--listen', '127.0.0.1:0', '--admin', 'off', '--audit-log', '/dev/null', ...extra];
      const script = `process.on('SIGUSR2', () => { process.stdout.write(JSON.stringify(Object.keys(require.cache))); process.exit(0); });
        require(${JSON.stringify(join(ROOT, 'dist', 'cli', 'main.js'))}).main(['node', 'kube-dlp', ...${JSON.stringify(args)}]);`;
      const child = spawn(process.execPath, ['-e', script], { stdio: ['ignore', 'pipe', 'pipe'] });
      let out = '';
      let err = '';
      child.stdout.on('data', (d) => (out += d));
      child.stderr.on('data', (d) => {
        err += d;
        if (err.includes('"proxy listening"')) child.kill('SIGUSR2');
      });
      child.on('error', reject);
      child.on('exit', () => (out ? resolve(JSON.parse(out) as string[]) : reject(new Error(`no module list: ${err}`))));
    });
  const has = (modules: string[], pkg: string) => modules.some((m) => m.includes(join('node_modules', '@peculiar', pkg)));

  const plain = await modulesOfRunningProxy([]);
  t.ok(plain.some((m) => m.includes(join('dist', 'proxy', 'start-proxy'))), 'precondition: the proxy started');
  t.notOk(has(plain, 'asn1-x509'), 'without --intercept-ca-dir: no X.509 schema classes');
  t.notOk(has(plain, 'x509'), 'nor @peculiar/x509');
  // 2-3 MiB per pod: a profile and tenant directory that conform are checked with the generated plain schemas.
  t.notOk(
    plain.some((m) => m.includes(join('node_modules', '@sinclair', 'typebox'))),
    'no TypeBox (profile/plain-schema.ts; it loads only to describe a document that does not conform)',
  );

  const intercepting = await modulesOfRunningProxy(['--intercept-ca-dir', dir]);
  t.ok(has(intercepting, 'asn1-x509'), 'intercepting: the schema classes leaves are minted with');
  t.notOk(has(intercepting, 'x509'), 'but not @peculiar/x509, which only creates CAs (the operator)');
});
