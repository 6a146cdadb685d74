// Which roots an intercepted upstream's certificate must chain to: Node's
// bundled Mozilla roots, plus --upstream-ca-file, plus the profile's
// tls.upstreamCA. Passing `ca` to Node replaces its default roots, so the
// bundled ones are listed explicitly. Computed once per profile version, and
// so is the SecureContext holding them: building one from ~150 PEM roots
// takes about 35 ms of CPU on the event loop, which, paid per upstream
// connection, was what stalled every intercepted handshake under load.
import { readFileSync } from 'node:fs';
import tls from 'node:tls';
import type { RuntimeConfig } from '../profile';
import { InterceptError } from './errors';
import { parsePemBundle } from './pem-bundle';

export class UpstreamTrust {
  private readonly base: string[];
  private readonly perProfile = new WeakMap<RuntimeConfig, string[]>();
  private readonly contexts = new WeakMap<string[], tls.SecureContext>();

  /** Throws InterceptError when the extra CA file cannot be read or holds no valid certificate. */
  constructor(extraCaFile?: string) {
    this.base = [...tls.rootCertificates];
    if (extraCaFile === undefined) return;
    let text: string;
    try {
      text = readFileSync(extraCaFile, 'utf8');
    } catch (err) {
      throw new InterceptError('KDLP_UPSTREAM_CA_INVALID', `--upstream-ca-file ${extraCaFile} cannot be read (${(err as NodeJS.ErrnoException).code ?? 'EIO'})`);
    }
    try {
      this.base.push(...parsePemBundle(text));
    } catch (err) {
      throw new InterceptError('KDLP_UPSTREAM_CA_INVALID', `--upstream-ca-file ${extraCaFile}: PEM bundle ${(err as Error).message}`);
    }
  }

  /** The roots for upstreams under this profile. */
  rootsFor(cfg: RuntimeConfig): string[] {
    let roots = this.perProfile.get(cfg);
    if (roots) return roots;
    const pem = cfg.spec.tls.upstreamCA?.pem;
    // Validation already rejected unusable bundles; parse only to split them.
    roots = pem === undefined ? this.base : [...this.base, ...parsePemBundle(pem)];
    this.perProfile.set(cfg, roots);
    return roots;
  }

  /** One client SecureContext per set of roots: what every upstream TLS connection under this profile uses. */
  contextFor(cfg: RuntimeConfig): tls.SecureContext {
    const roots = this.rootsFor(cfg);
    let ctx = this.contexts.get(roots);
    if (!ctx) {
      ctx = tls.createSecureContext({ ca: roots, minVersion: 'TLSv1.2' });
      this.contexts.set(roots, ctx);
    }
    return ctx;
  }
}
