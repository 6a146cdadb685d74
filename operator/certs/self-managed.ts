// Self-managed webhook TLS: the operator is its own CA. Every replica runs
// this loop: read the Secret, plan (rotation-plan.ts), carry out at most one
// step with a resourceVersion-guarded write (a replica that loses the race
// re-reads next time), publish the trusted CAs into the webhook
// configuration, and serve whatever serving certificate the Secret holds.
import { KubeApiError } from '../errors';
import type { KubeClient } from '../kube/client';
import type { Logger } from '../kube/logger';
import { objectPath, SECRETS } from '../kube/resources';
import type { ServingIdentity } from '../webhook/server';
import { joinPemBundle } from './certificate-info';
import { CaBundlePublisher } from './ca-bundle-publisher';
import { createCertificateAuthority, issueServingCertificate, type KeyPair } from './issue-certificates';
import { planRotation, servingDays, type RotationPolicy, type RotationStep } from './rotation-plan';
import { TLS_SECRET_NAME, materialFromSecret, readState, secretFromMaterial, type TlsMaterial, type TlsState } from './tls-secret';

export interface CertificateSource {
  /** The identity to serve now (after start()). */
  current(): ServingIdentity;
  /** Called whenever the serving certificate changes. */
  onChange(listener: (identity: ServingIdentity) => void): void;
  start(): Promise<ServingIdentity>;
  stop(): void;
}

export interface SelfManagedOptions {
  client: KubeClient;
  namespace: string;
  secretName?: string;
  webhookConfigurationName: string;
  /** Register the webhook at this URL instead of the Service (--webhook-host). */
  webhookUrl?: string;
  policy: RotationPolicy;
  /** How often the loop runs. Default 60 s. */
  checkIntervalMs?: number;
  log: Logger;
  now?: () => Date;
}

export const DEFAULT_ROTATION_POLICY: Omit<RotationPolicy, 'dnsNames' | 'ipAddresses'> = {
  caValidityDays: 365,
  servingValidityDays: 90,
  renewFraction: 1 / 3,
  propagationMs: 2 * 60_000,
};

export interface TickResult {
  step: RotationStep;
  /** False when another replica wrote first; the next tick continues from its state. */
  applied: boolean;
  published: 'unchanged' | 'patched' | 'missing';
}

export class SelfManagedCertificates implements CertificateSource {
  private identity?: ServingIdentity;
  private readonly listeners: ((identity: ServingIdentity) => void)[] = [];
  private readonly publisher: CaBundlePublisher;
  private readonly secretName: string;
  private timer?: NodeJS.Timeout;
  private running?: Promise<TickResult>;
  private forceCaRotation = false;
  private readonly now: () => Date;

  constructor(private readonly opts: SelfManagedOptions) {
    this.publisher = new CaBundlePublisher(opts.client, opts.webhookConfigurationName, opts.webhookUrl);
    this.secretName = opts.secretName ?? TLS_SECRET_NAME;
    this.now = opts.now ?? (() => new Date());
  }

  current(): ServingIdentity {
    if (!this.identity) throw new Error('certificates not started');
    return this.identity;
  }

  onChange(listener: (identity: ServingIdentity) => void): void {
    this.listeners.push(listener);
  }

  /** Ticks until there is a serving certificate (retrying API errors), then keeps ticking in the background. */
  async start(): Promise<ServingIdentity> {
    let delay = 500;
    for (;;) {
      try {
        await this.tick();
        if (this.identity) break;
      } catch (err) {
        this.opts.log.warn({ err: (err as Error).message }, 'webhook certificates not ready; retrying');
      }
      await new Promise((r) => setTimeout(r, delay));
      delay = Math.min(delay * 2, 10_000);
    }
    this.timer = setInterval(() => {
      this.tick().catch((err: unknown) => this.opts.log.warn({ err: (err as Error).message }, 'webhook certificate check failed'));
    }, this.opts.checkIntervalMs ?? 60_000);
    this.timer.unref();
    return this.identity!;
  }

  stop(): void {
    clearInterval(this.timer);
  }

  /** Starts a CA rotation at the next tick (it then proceeds step by step, waiting for propagation). */
  requestCaRotation(): void {
    this.forceCaRotation = true;
  }

  /** One pass of the loop; passes never overlap. */
  tick(): Promise<TickResult> {
    this.running ??= this.tickOnce().finally(() => (this.running = undefined));
    return this.running;
  }

  private async tickOnce(): Promise<TickResult> {
    const { secret, resourceVersion } = await this.readSecret();
    let state: TlsState | undefined;
    try {
      state = secret ? readState(materialFromSecret(secret)) : undefined;
    } catch (err) {
      this.opts.log.warn({ err: (err as Error).message }, 'webhook TLS Secret unreadable; starting over');
    }
    const now = this.now();
    const bundlePublished = state ? await this.publisher.isPublished(joinPemBundle(state.material.trusted)) : false;
    const step = planRotation({ state, now, policy: this.opts.policy, bundlePublished, forceCaRotation: this.forceCaRotation });
    let material = state?.material;
    let applied = true;
    const change = await this.carryOut(step, state, now);
    if (change) {
      applied = await this.write(change, resourceVersion, secret !== undefined);
      if (applied) {
        material = change;
        if (step.kind === 'add-next-ca') this.forceCaRotation = false;
        this.opts.log.info({ step: step.kind, why: 'why' in step ? step.why : undefined }, 'webhook certificates changed');
      } else {
        material = undefined;
      }
    }
    let published: TickResult['published'] = 'unchanged';
    if (material) {
      published = await this.publisher.publish(joinPemBundle(material.trusted));
      if (published === 'missing') this.opts.log.warn({ configuration: this.opts.webhookConfigurationName }, 'webhook configuration not found; caBundle not published');
      this.serve(material.serving);
    }
    return { step, applied, published };
  }

  private async carryOut(step: RotationStep, state: TlsState | undefined, now: Date): Promise<TlsMaterial | undefined> {
    const policy = this.opts.policy;
    const newCa = () => createCertificateAuthority(`kube-dlp-webhook-ca ${now.toISOString()}`, policy.caValidityDays);
    const issue = (ca: KeyPair, caNotAfter: Date) =>
      issueServingCertificate(ca, {
        commonName: policy.dnsNames[0] ?? policy.ipAddresses[0] ?? 'kube-dlp-webhook',
        dnsNames: policy.dnsNames,
        ipAddresses: policy.ipAddresses,
        validityDays: servingDays(policy, caNotAfter, now),
      });
    const m = state?.material;
    switch (step.kind) {
      case 'create': {
        const ca = await newCa();
        const caDays = new Date(now.getTime() + policy.caValidityDays * 86_400_000);
        return { serving: await issue(ca, caDays), trusted: [ca.certPem], signing: ca, changedAt: now };
      }
      case 'add-next-ca': {
        const next = await newCa();
        return { ...m!, trusted: [...m!.trusted, next.certPem], next, changedAt: now };
      }
      case 'switch-to-next-ca':
        return { serving: await issue(m!.next!, state!.next!.notAfter), trusted: m!.trusted, signing: m!.next!, changedAt: now };
      case 'drop-old-cas':
        return { ...m!, trusted: [m!.signing.certPem], changedAt: now };
      case 'renew-serving':
        return { ...m!, serving: await issue(m!.signing, state!.signing.notAfter), changedAt: now };
      case 'wait':
      case 'none':
        return undefined;
    }
  }

  private async readSecret(): Promise<{ secret?: { data?: Record<string, string>; metadata?: { annotations?: Record<string, string>; resourceVersion?: string } }; resourceVersion?: string }> {
    try {
      const secret = await this.opts.client.get<{ data?: Record<string, string>; metadata: { resourceVersion?: string; annotations?: Record<string, string> } }>(
        SECRETS,
        this.secretName,
        this.opts.namespace,
      );
      return { secret, resourceVersion: secret.metadata.resourceVersion };
    } catch (err) {
      if (err instanceof KubeApiError && err.notFound) return {};
      throw err;
    }
  }

  /** Create or replace (guarded by resourceVersion); false when another writer came first. */
  private async write(material: TlsMaterial, resourceVersion: string | undefined, exists: boolean): Promise<boolean> {
    const body = secretFromMaterial(material, this.opts.namespace, this.secretName, resourceVersion);
    try {
      if (exists) await this.opts.client.request('PUT', objectPath(SECRETS, this.secretName, this.opts.namespace), { body });
      else await this.opts.client.create(SECRETS, body, this.opts.namespace);
      return true;
    } catch (err) {
      if (err instanceof KubeApiError && err.conflict) return false;
      throw err;
    }
  }

  private serve(serving: KeyPair): void {
    if (this.identity?.certPem === serving.certPem && this.identity.keyPem === serving.keyPem) return;
    this.identity = { certPem: serving.certPem, keyPem: serving.keyPem };
    for (const l of this.listeners) l(this.identity);
  }
}
