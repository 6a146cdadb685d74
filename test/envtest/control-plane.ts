// A real Kubernetes control plane for integration tests: etcd plus
// kube-apiserver, started the way controller-runtime's envtest starts them
// (secure port only, throwaway PKI, RBAC, no controllers, no nodes). One
// control plane serves a whole test run:
//  - test/envtest/with-control-plane.sh starts one and exports
//    KDLP_ENVTEST_KUBECONFIG; getControlPlane() in every test file attaches
//    to it;
//  - without that variable (a single file run by hand) getControlPlane()
//    starts a private one that dies with the test process.

import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { request as httpRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { KubeConfig } from '@kubernetes/client-node';
import { resolveAssets, type Assets } from './assets';
import { EnvtestError } from './errors';
import { renderKubeconfig } from './kubeconfig';
import { createCertificateAuthority, createSigningKeyPair } from './pki';
import { freeLoopbackPorts } from './ports';
import { ProcessGroupRun, reapStaleRuns, type StartedProcess } from './process-groups';

/** Names a kubeconfig of a running control plane to reuse. */
export const KUBECONFIG_ENV = 'KDLP_ENVTEST_KUBECONFIG';

export interface ControlPlane {
  /** A kubeconfig with embedded admin (system:masters) credentials. */
  kubeconfigPath: string;
  /** Loaded from kubeconfigPath, ready for makeApiClient / Watch. */
  kubeConfig: KubeConfig;
  /** e.g. https://127.0.0.1:41234 */
  server: string;
  /** The CA that signed the apiserver's serving certificate. */
  caPem: string;
  /** Stops etcd and kube-apiserver if this process started them; no-op when attached. */
  stop(): Promise<void>;
}

export interface StartOptions {
  /** Folder with kube-apiserver and etcd; default: build-assets.sh decides. */
  assetsDir?: string;
  /** Bound on how long etcd plus kube-apiserver may take to become ready. */
  startTimeoutMs?: number;
  /** Extra kube-apiserver flags, e.g. ['--feature-gates=Foo=true']. */
  extraApiserverArgs?: string[];
}

const LOG_TAIL_LINES = 80;

/** tmpfs when there is one: etcd writes on every change and nothing must survive. */
function scratchRoot(): string {
  return existsSync('/dev/shm') ? '/dev/shm' : tmpdir();
}

async function tail(path: string): Promise<string> {
  try {
    const lines = (await readFile(path, 'utf8')).trimEnd().split('\n');
    return lines.slice(-LOG_TAIL_LINES).join('\n');
  } catch {
    return '(no log)';
  }
}

interface GetResult {
  status: number;
  body: string;
}

function httpGet(url: string, tls?: { ca: string; cert: string; key: string }): Promise<GetResult> {
  return new Promise((resolve, reject) => {
    const request = tls ? httpsRequest : httpRequest;
    const req = request(url, { method: 'GET', timeout: 5000, ...(tls ?? {}) }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => (body += chunk));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on('timeout', () => req.destroy(new Error(`GET ${url} timed out`)));
    req.on('error', reject);
    req.end();
  });
}

/** Resolves when `url` answers 200; rejects as soon as `proc` exits, or at `deadline`. */
async function waitReady(
  proc: StartedProcess,
  name: string,
  url: string,
  deadline: number,
  tls?: { ca: string; cert: string; key: string },
): Promise<void> {
  let exitedWith: string | undefined;
  void proc.exited.then((how) => (exitedWith = how));
  let last = 'no answer yet';
  for (;;) {
    if (exitedWith !== undefined) {
      throw new EnvtestError('KDLP_ENVTEST_START', `${name} exited (${exitedWith}) before it was ready`);
    }
    try {
      const res = await httpGet(url, tls);
      if (res.status === 200) return;
      last = `HTTP ${res.status}: ${res.body.slice(0, 2000)}`;
    } catch (err) {
      last = err instanceof Error ? err.message : String(err);
    }
    if (Date.now() >= deadline) {
      throw new EnvtestError('KDLP_ENVTEST_START', `${name} not ready at ${url} in time; last answer: ${last}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

function etcdArgs(dataDir: string, clientPort: number, peerPort: number): string[] {
  const client = `http://127.0.0.1:${clientPort}`;
  const peer = `http://127.0.0.1:${peerPort}`;
  return [
    '--name=envtest',
    `--data-dir=${dataDir}`,
    `--listen-client-urls=${client}`,
    `--advertise-client-urls=${client}`,
    `--listen-peer-urls=${peer}`,
    `--initial-advertise-peer-urls=${peer}`,
    `--initial-cluster=envtest=${peer}`,
    '--initial-cluster-state=new',
    // Throwaway data on tmpfs: durability costs time and buys nothing.
    '--unsafe-no-fsync',
    '--log-level=warn',
  ];
}

function apiserverArgs(dir: string, port: number, etcdClientPort: number): string[] {
  const f = (name: string): string => join(dir, name);
  return [
    `--etcd-servers=http://127.0.0.1:${etcdClientPort}`,
    // Secure port only, on loopback; the serving cert names 127.0.0.1 and localhost.
    '--bind-address=127.0.0.1',
    '--advertise-address=127.0.0.1',
    // Publishing the kubernetes Service endpoints is for in-cluster clients,
    // of which there are none; and since v1.37 a loopback advertise address
    // is refused by the reconcilers that would publish it.
    '--endpoint-reconciler-type=none',
    `--secure-port=${port}`,
    `--cert-dir=${f('apiserver-certs')}`,
    `--tls-cert-file=${f('serving.crt')}`,
    `--tls-private-key-file=${f('serving.key')}`,
    `--client-ca-file=${f('ca.crt')}`,
    `--service-account-issuer=https://127.0.0.1:${port}`,
    `--service-account-key-file=${f('sa.pub')}`,
    `--service-account-signing-key-file=${f('sa.key')}`,
    '--authorization-mode=RBAC',
    '--service-cluster-ip-range=10.0.0.0/24',
    '--allow-privileged=true',
    // No controller-manager creates the "default" ServiceAccount of a
    // namespace, so the plugin that requires it would reject every Pod.
    '--disable-admission-plugins=ServiceAccount',
  ];
}

function isPortClash(logs: string): boolean {
  return /address already in use/i.test(logs);
}

/**
 * Starts etcd and kube-apiserver owned by this process. They are killed when
 * the process exits, on SIGINT/SIGTERM/SIGHUP, and by the next start if this
 * process was SIGKILLed. A failed start reports the last lines of both logs.
 */
export async function startControlPlane(options: StartOptions = {}): Promise<ControlPlane> {
  reapStaleRuns();
  const assets: Assets = options.assetsDir
    ? { dir: options.assetsDir, kubeApiserver: join(options.assetsDir, 'kube-apiserver'), etcd: join(options.assetsDir, 'etcd') }
    : await resolveAssets();
  // Ports are picked, released, then bound by the servers; another process can
  // take one in between, hence a few attempts.
  const attempts = 3;
  for (let attempt = 1; ; attempt++) {
    try {
      return await startOnce(assets, options);
    } catch (err) {
      if (attempt < attempts && err instanceof PortClashError) continue;
      throw err instanceof PortClashError ? err.original : err;
    }
  }
}

class PortClashError extends Error {
  constructor(readonly original: unknown) {
    super('port clash');
  }
}

async function startOnce(assets: Assets, options: StartOptions): Promise<ControlPlane> {
  const startedAt = Date.now();
  const deadline = startedAt + (options.startTimeoutMs ?? 120_000);
  const runId = `${process.pid}-${startedAt}`;
  const run = new ProcessGroupRun(runId);
  const dir = await mkdtemp(join(scratchRoot(), 'kdlp-envtest-'));
  run.ownDir(dir);
  const etcdLog = join(dir, 'etcd.log');
  const apiserverLog = join(dir, 'kube-apiserver.log');
  try {
    const ca = await createCertificateAuthority('kube-dlp-envtest-ca');
    const saKeys = createSigningKeyPair();
    const [serving, admin] = await Promise.all([
      ca.issue({ commonName: '127.0.0.1', altNames: ['IP:127.0.0.1', 'DNS:localhost'], usage: 'server' }),
      // system:masters bypasses RBAC: the tests act as cluster admin.
      ca.issue({ commonName: 'kube-dlp-envtest-admin', organization: 'system:masters', usage: 'client' }),
    ]);
    await Promise.all([
      writeFile(join(dir, 'ca.crt'), ca.certPem),
      writeFile(join(dir, 'serving.crt'), serving.certPem),
      writeFile(join(dir, 'serving.key'), serving.keyPem, { mode: 0o600 }),
      writeFile(join(dir, 'sa.key'), saKeys.privateKeyPem, { mode: 0o600 }),
      writeFile(join(dir, 'sa.pub'), saKeys.publicKeyPem),
      mkdir(join(dir, 'apiserver-certs')),
    ]);

    const [etcdClientPort, etcdPeerPort, apiserverPort] = await freeLoopbackPorts(3);
    const etcd = run.spawn(assets.etcd, etcdArgs(join(dir, 'etcd-data'), etcdClientPort, etcdPeerPort), etcdLog);
    await waitReady(etcd, 'etcd', `http://127.0.0.1:${etcdClientPort}/health`, deadline);

    const apiserver = run.spawn(
      assets.kubeApiserver,
      [...apiserverArgs(dir, apiserverPort, etcdClientPort), ...(options.extraApiserverArgs ?? [])],
      apiserverLog,
    );
    const server = `https://127.0.0.1:${apiserverPort}`;
    const tls = { ca: ca.certPem, cert: admin.certPem, key: admin.keyPem };
    await waitReady(apiserver, 'kube-apiserver', `${server}/readyz`, deadline, tls);

    const kubeconfigPath = join(dir, 'kubeconfig');
    await writeFile(
      kubeconfigPath,
      renderKubeconfig({ server, caPem: ca.certPem, clientCertPem: admin.certPem, clientKeyPem: admin.keyPem }),
      { mode: 0o600 },
    );
    const kubeConfig = new KubeConfig();
    kubeConfig.loadFromFile(kubeconfigPath);
    return { kubeconfigPath, kubeConfig, server, caPem: ca.certPem, stop: () => run.stop() };
  } catch (err) {
    const logs = `--- etcd log (${etcdLog}) ---\n${await tail(etcdLog)}\n--- kube-apiserver log (${apiserverLog}) ---\n${await tail(apiserverLog)}`;
    run.killNow();
    if (isPortClash(logs)) throw new PortClashError(withLogs(err, logs));
    throw withLogs(err, logs);
  }
}

function withLogs(err: unknown, logs: string): EnvtestError {
  const message = err instanceof Error ? err.message : String(err);
  const code = err instanceof EnvtestError ? err.code : 'KDLP_ENVTEST_START';
  return new EnvtestError(code, `${message}\n${logs}`, { cause: err });
}

/**
 * Attaches to a control plane started by another process (with-control-plane.sh)
 * through its kubeconfig; fails fast when it is not ready.
 */
export async function attachControlPlane(kubeconfigPath: string): Promise<ControlPlane> {
  const kubeConfig = new KubeConfig();
  try {
    kubeConfig.loadFromFile(kubeconfigPath);
  } catch (err) {
    throw new EnvtestError('KDLP_ENVTEST_REUSE', `${KUBECONFIG_ENV}=${kubeconfigPath} cannot be loaded`, {
      cause: err,
    });
  }
  const cluster = kubeConfig.getCurrentCluster();
  const user = kubeConfig.getCurrentUser();
  if (!cluster?.caData || !user?.certData || !user.keyData) {
    throw new EnvtestError(
      'KDLP_ENVTEST_REUSE',
      `${kubeconfigPath} lacks embedded CA or client certificate data (expected one written by this harness)`,
    );
  }
  const caPem = Buffer.from(cluster.caData, 'base64').toString('utf8');
  const tls = {
    ca: caPem,
    cert: Buffer.from(user.certData, 'base64').toString('utf8'),
    key: Buffer.from(user.keyData, 'base64').toString('utf8'),
  };
  const readyz = await httpGet(`${cluster.server}/readyz`, tls).catch((err: unknown) => {
    throw new EnvtestError('KDLP_ENVTEST_REUSE', `control plane at ${cluster.server} is unreachable`, { cause: err });
  });
  if (readyz.status !== 200) {
    throw new EnvtestError(
      'KDLP_ENVTEST_REUSE',
      `control plane at ${cluster.server} is not ready: /readyz answered ${readyz.status}`,
    );
  }
  return { kubeconfigPath, kubeConfig, server: cluster.server, caPem, stop: async () => {} };
}

let shared: Promise<ControlPlane> | undefined;

/**
 * The control plane for this test process: the one named by
 * KDLP_ENVTEST_KUBECONFIG when set, otherwise one started on first call.
 * Every call in a process returns the same instance.
 */
export function getControlPlane(): Promise<ControlPlane> {
  if (!shared) {
    const reuse = process.env[KUBECONFIG_ENV];
    shared = reuse ? attachControlPlane(reuse) : startControlPlane();
    // A failed start is reported to every caller of this process; a later
    // call (e.g. after the assets were built) tries again.
    shared.catch(() => (shared = undefined));
  }
  return shared;
}
