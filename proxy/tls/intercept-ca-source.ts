// The interception CA as mounted from a kubernetes.io/tls Secret: DIR/tls.crt
// and DIR/tls.key. The kubelet swaps a mounted Secret atomically (a symlink
// flip), but the two files can still be read across a flip: a pair that does
// not match is not an error worth acting on, just a reason to keep the
// current CA and look again at the next poll. Polling rather than fs.watch
// because inotify on those symlinked mounts misses the flip on some kernels.
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { InterceptCa } from './intercept-ca';
import { InterceptError } from './errors';

export interface InterceptCaSourceOptions {
  /** How often the files are re-read. Default 5 s. */
  pollMs?: number;
  onReload?(ca: InterceptCa): void;
  onReloadError?(err: InterceptError): void;
}

export class InterceptCaSource {
  private ca?: InterceptCa;
  private lastText = '';
  private timer?: NodeJS.Timeout;
  private polling = false;

  constructor(
    readonly dir: string,
    private readonly opts: InterceptCaSourceOptions = {},
  ) {}

  /** Load the CA now; throws InterceptError (the sidecar does not start with an unusable CA). */
  async start(): Promise<InterceptCa> {
    const ca = await this.load();
    if (!ca) throw new InterceptError('KDLP_INTERCEPT_CA_INVALID', 'no CA loaded');
    const pollMs = this.opts.pollMs ?? 5000;
    this.timer = setInterval(() => void this.poll(), pollMs);
    this.timer.unref();
    return ca;
  }

  current(): InterceptCa | undefined {
    return this.ca;
  }

  stop(): void {
    clearInterval(this.timer);
  }

  /** Re-read now (also what the timer does). */
  async poll(): Promise<void> {
    if (this.polling) return;
    this.polling = true;
    try {
      const previous = this.ca;
      const ca = await this.load();
      if (ca && ca !== previous) this.opts.onReload?.(ca);
    } catch (err) {
      if (err instanceof InterceptError) this.opts.onReloadError?.(err);
      else throw err;
    } finally {
      this.polling = false;
    }
  }

  private async load(): Promise<InterceptCa | undefined> {
    let certPem: string;
    let keyPem: string;
    try {
      [certPem, keyPem] = await Promise.all([readFile(join(this.dir, 'tls.crt'), 'utf8'), readFile(join(this.dir, 'tls.key'), 'utf8')]);
    } catch (err) {
      throw new InterceptError('KDLP_INTERCEPT_CA_UNREADABLE', `--intercept-ca-dir ${this.dir}: tls.crt or tls.key cannot be read (${(err as NodeJS.ErrnoException).code ?? 'EIO'})`);
    }
    const text = `${certPem}\u0000${keyPem}`;
    if (text === this.lastText && this.ca) return this.ca;
    const ca = await InterceptCa.load({ certPem, keyPem });
    this.lastText = text;
    this.ca = ca;
    return ca;
  }
}
