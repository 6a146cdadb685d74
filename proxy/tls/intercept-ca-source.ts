// The interception CA as mounted from a kubernetes.io/tls Secret: DIR/tls.crt
// and DIR/tls.key, followed by a FileSource (proxy/reload/file-source.ts).
// The kubelet swaps a mounted Secret atomically (a symlink flip), but the two
// files can still be read across a flip: a pair that does not match is not an
// error worth acting on, just a reason to keep the current CA and look again
// at the next poll. Polling only, no fs.watch, because inotify on those
// symlinked mounts misses the flip on some kernels.
import { join } from 'node:path';
import { FileSource } from '../reload/file-source';
import { InterceptCa } from './intercept-ca';
import { InterceptError } from './errors';

export interface InterceptCaSourceOptions {
  /** How often the files are checked. Default 5 s. */
  pollMs?: number;
  onReload?(ca: InterceptCa): void;
  onReloadError?(err: InterceptError): void;
}

export class InterceptCaSource {
  private readonly source: FileSource<InterceptCa, InterceptError>;

  constructor(
    readonly dir: string,
    opts: InterceptCaSourceOptions = {},
  ) {
    this.source = new FileSource({
      name: 'InterceptCaSource',
      paths: [join(dir, 'tls.crt'), join(dir, 'tls.key')],
      watchFs: false,
      pollIntervalMs: opts.pollMs ?? 5000,
      load: ([certPem, keyPem]) => InterceptCa.load({ certPem, keyPem }),
      unreadable: (_file, code) =>
        new InterceptError('KDLP_INTERCEPT_CA_UNREADABLE', `--intercept-ca-dir ${dir}: tls.crt or tls.key cannot be read (${code})`),
      rejected: (err) => (err instanceof InterceptError ? err : undefined),
    });
    if (opts.onReload) this.source.on('reload', (ca) => opts.onReload?.(ca));
    if (opts.onReloadError) this.source.on('reloadError', (err) => opts.onReloadError?.(err));
  }

  /** Load the CA now; throws InterceptError (the sidecar does not start with an unusable CA). */
  start(): Promise<InterceptCa> {
    return this.source.start();
  }

  current(): InterceptCa | undefined {
    return this.source.latest();
  }

  stop(): void {
    this.source.stop();
  }

  /** Re-read now (also what the timer does). */
  async poll(): Promise<void> {
    await this.source.checkNow();
  }
}
