// Serving certificate from files, for cert-manager (config/certmanager/): the
// Certificate's Secret is mounted into the operator's pod, cert-manager
// renews it and injects the CA into the webhook configuration
// (cert-manager.io/inject-ca-from). The operator only reads the files, and
// picks up a renewal when the kubelet updates the mounted volume.
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { CertificateError } from '../errors';
import type { ServingIdentity } from '../webhook/server';
import { certificateInfo, keyMatches } from './certificate-info';
import type { CertificateSource } from './self-managed';

export class FileCertificates implements CertificateSource {
  private identity?: ServingIdentity;
  private readonly listeners: ((identity: ServingIdentity) => void)[] = [];
  private timer?: NodeJS.Timeout;

  constructor(
    private readonly dir: string,
    private readonly opts: { pollMs?: number; onError?(err: Error): void } = {},
  ) {}

  current(): ServingIdentity {
    if (!this.identity) throw new Error('certificates not started');
    return this.identity;
  }

  onChange(listener: (identity: ServingIdentity) => void): void {
    this.listeners.push(listener);
  }

  async start(): Promise<ServingIdentity> {
    this.identity = await this.read();
    this.timer = setInterval(() => {
      this.reload().catch((err: Error) => this.opts.onError?.(err));
    }, this.opts.pollMs ?? 10_000);
    this.timer.unref();
    return this.identity;
  }

  stop(): void {
    clearInterval(this.timer);
  }

  /** Re-reads the files; a half-written pair (key and certificate not matching yet) is ignored until complete. */
  async reload(): Promise<boolean> {
    const next = await this.read();
    if (this.identity?.certPem === next.certPem && this.identity.keyPem === next.keyPem) return false;
    this.identity = next;
    for (const l of this.listeners) l(next);
    return true;
  }

  private async read(): Promise<ServingIdentity> {
    const [certPem, keyPem] = await Promise.all([readFile(join(this.dir, 'tls.crt'), 'utf8'), readFile(join(this.dir, 'tls.key'), 'utf8')]);
    const info = certificateInfo(certPem, `${this.dir}/tls.crt`);
    if (!keyMatches(info, keyPem)) throw new CertificateError(`${this.dir}/tls.key does not belong to tls.crt`);
    return { certPem, keyPem };
  }
}
