// Keeps each tenant's CA Secret (operator namespace) current: read, plan one
// step, carry it out with a resourceVersion-guarded write (another replica
// that wrote first wins; we re-read), and hand back what the namespaces need.
// Self-managed by default; with source "cert-manager" the Secret is written
// by cert-manager (config/certmanager) and only read here.
import { KubeApiError } from '../errors';
import type { KubeClient } from '../kube/client';
import type { Logger } from '../kube/logger';
import { objectPath, SECRETS } from '../kube/resources';
import { joinPemBundle } from '../certs/certificate-info';
import { InterceptCa } from '../../proxy/tls/intercept-ca';
import { TenantCaError } from '../errors';
import { ANNOTATION_ROTATE_CA, tenantCaSecretName } from './names';
import { planTenantCa, type TenantCaPolicy, type TenantCaStep } from './tenant-ca-plan';
import { isUsable, readTenantCa, tenantCaSecret, type SecretLike, type TenantCaMaterial } from './tenant-ca-secret';

export type TenantCaSource = 'self' | 'cert-manager';

/** What the namespaces of a tenant receive. */
export interface TenantTrust {
  /** The CA that signs now (tls.crt, tls.key): the sidecar's --intercept-ca-dir. */
  signing: { certPem: string; keyPem: string };
  /** Every CA clients trust, PEM bundle. */
  bundlePem: string;
}

export interface TenantCaStoreOptions {
  client: KubeClient;
  /** The operator's namespace: where tenant CA Secrets live. */
  namespace: string;
  source: TenantCaSource;
  policy: TenantCaPolicy;
  log: Logger;
  now?: () => Date;
}

/** At most this many steps per call: create, then nothing; or one rotation step. */
const MAX_STEPS = 3;

export class TenantCaStore {
  private readonly now: () => Date;
  private readonly forced = new Set<string>();

  constructor(private readonly opts: TenantCaStoreOptions) {
    this.now = opts.now ?? (() => new Date());
  }

  /** Starts a rotation of this tenant's CA at the next ensure() (a suspected key leak; tests). */
  requestRotation(tenant: string): void {
    this.forced.add(tenant);
  }

  /** The tenant's CA, created or advanced as the plan says. Throws TenantCaError when cert-manager's Secret is missing or unusable. */
  async ensure(tenant: string): Promise<{ trust: TenantTrust; step: TenantCaStep['kind'] }> {
    let last: TenantCaStep['kind'] = 'none';
    for (let i = 0; i < MAX_STEPS; i++) {
      const { secret } = await this.read(tenant);
      const state = secret ? readTenantCa(secret) : undefined;
      if (this.opts.source === 'cert-manager' && !secret) {
        throw new TenantCaError(
          'KDLP_TENANT_CA_MISSING',
          `tenant ${tenant}: Secret ${this.opts.namespace}/${tenantCaSecretName(tenant)} not found; cert-manager writes it (config/certmanager)`,
        );
      }
      const now = this.now();
      const requested = this.forced.has(tenant) || secret?.metadata?.annotations?.[ANNOTATION_ROTATE_CA] !== undefined;
      const step = planTenantCa(state, now, this.opts.policy, requested);
      if (step.kind === 'unusable') throw new TenantCaError('KDLP_TENANT_CA_UNUSABLE', `tenant ${tenant}: ${step.why}`);
      if (step.kind === 'none' || step.kind === 'wait') {
        if (!state || !isUsable(state)) throw new Error('unreachable: a plan without a usable state');
        return { trust: trustOf(state.material), step: last };
      }
      const material = await this.carryOut(tenant, step, state && isUsable(state) ? state.material : undefined, now);
      const written = await this.write(tenant, material, secret?.metadata?.resourceVersion, secret !== undefined);
      if (written) {
        last = step.kind;
        if (step.kind === 'add-next') this.forced.delete(tenant);
        this.opts.log.info({ tenant, step: step.kind, why: step.why }, 'tenant CA changed');
      }
    }
    throw new TenantCaError('KDLP_TENANT_CA_CONFLICT', `tenant ${tenant}: the CA Secret kept changing under us; retrying later`);
  }

  /** Removes the CA of a tenant that has no namespace left (cert-manager's Secrets belong to their Certificate). */
  async remove(tenant: string): Promise<boolean> {
    if (this.opts.source === 'cert-manager') return false;
    const { secret } = await this.read(tenant);
    if (!secret) return false;
    await this.opts.client.delete(SECRETS, tenantCaSecretName(tenant), this.opts.namespace);
    this.opts.log.info({ tenant }, 'tenant CA removed: no namespace of this tenant intercepts TLS any more');
    return true;
  }

  private async carryOut(tenant: string, step: TenantCaStep, m: TenantCaMaterial | undefined, now: Date): Promise<TenantCaMaterial> {
    const newCa = () => InterceptCa.create({ commonName: `kube-dlp ${tenant} interception CA ${now.toISOString().slice(0, 10)}`, lifetimeMs: this.opts.policy.lifetimeMs, now });
    switch (step.kind) {
      case 'create': {
        const ca = await newCa();
        return { signing: ca, trusted: [ca.certPem], changedAt: now };
      }
      case 'add-next': {
        const next = await newCa();
        return { ...m!, trusted: [...m!.trusted, next.certPem], next, changedAt: now };
      }
      case 'switch':
        return { signing: m!.next!, trusted: m!.trusted, changedAt: now };
      case 'drop-old':
        return { signing: m!.signing, trusted: [m!.signing.certPem], changedAt: now };
      default:
        throw new Error(`unreachable step ${step.kind}`);
    }
  }

  private async read(tenant: string): Promise<{ secret?: SecretLike }> {
    try {
      return { secret: await this.opts.client.get<SecretLike>(SECRETS, tenantCaSecretName(tenant), this.opts.namespace) };
    } catch (err) {
      if (err instanceof KubeApiError && err.notFound) return {};
      throw err;
    }
  }

  private async write(tenant: string, m: TenantCaMaterial, resourceVersion: string | undefined, exists: boolean): Promise<boolean> {
    const body = tenantCaSecret(tenant, this.opts.namespace, m, resourceVersion);
    try {
      if (exists) await this.opts.client.request('PUT', objectPath(SECRETS, body.metadata.name, this.opts.namespace), { body });
      else await this.opts.client.create(SECRETS, body, this.opts.namespace);
      return true;
    } catch (err) {
      if (err instanceof KubeApiError && err.conflict) return false;
      throw err;
    }
  }
}

export function trustOf(m: TenantCaMaterial): TenantTrust {
  return { signing: { certPem: m.signing.certPem, keyPem: m.signing.keyPem }, bundlePem: joinPemBundle(m.trusted) };
}
