// Answers one AdmissionReview: decide, check the pod's annotations, inject,
// diff. Exceptions become an answer too, following the webhook's failure
// policy: under Fail (the default) the pod is refused with the error, as the
// API server would refuse it if the webhook were down; under Ignore it is
// admitted unchanged with a warning, as the API server would admit it. Either
// way the failure is counted, and a pod admitted without the sidecar is then
// reported by the rollout controller.
import { grantedExemption, isProtect, podViolations, type PodFacts, type SidecarIdentity } from '../admission-policy/pod-rules';
import { EVENT_REASONS } from '../api/conditions';
import type { OptInContext } from '../decide/opt-in';
import type { EventSink } from '../kube/events';
import { decideInjection, type SkipReason } from '../inject/decide-injection';
import { injectPod, type InjectionConfig } from '../inject/inject';
import { createPatch } from '../inject/json-patch';
import type { CaptureMode } from '../inject/names';
import { describeProblems, podOverrides } from '../inject/pod-annotations';
import { podDisplayName, type Pod } from '../inject/pod';
import type { ProfileAllowances } from '../inject/profile-allowances';
import type { Template } from '../inject/render-template';
import type { Logger } from '../kube/logger';
import type { NamespaceView } from '../model/views';
import { allow, allowWithPatch, deny, readAdmissionRequest, type AdmissionReviewOut } from './admission';
import type { FailureReason, RequestResult, WebhookMetrics } from './metrics';

export type FailurePolicy = 'Fail' | 'Ignore';

export interface NamespaceSource {
  /** The namespace as cached (or fetched on a miss); undefined when it does not exist. */
  namespace(name: string): Promise<NamespaceView | undefined>;
}

export interface AllowanceSource {
  /** What the namespace's rendered profile lets pods bypass. */
  allowances(namespace: string): Promise<ProfileAllowances>;
}

export interface InjectionHandlerOptions {
  template: Template;
  config: InjectionConfig;
  /** Capture mode for pods that name none, in namespaces whose profile is in Monitor mode. */
  defaultCaptureMode: CaptureMode;
  /**
   * The same in Protect namespaces (and where the mode is not known yet):
   * transparent by default, so an app that ignores HTTP_PROXY is inspected too.
   */
  protectCaptureMode?: CaptureMode;
  optIn: OptInContext;
  failurePolicy: FailurePolicy;
  namespaces: NamespaceSource;
  allowances: AllowanceSource;
  metrics: WebhookMetrics;
  log: Logger;
  /** Where exemptions used are audited (Events on the namespace). */
  events?: EventSink;
}

export interface Answer {
  review: AdmissionReviewOut;
  result: RequestResult;
}

/** What the webhook server asks of a handler: one answer per AdmissionReview body. */
export interface AdmissionReviewer {
  /** Throws BadAdmissionRequestError only when the body has no answerable request. */
  review(body: unknown): Promise<Answer>;
}

export class InjectionHandler implements AdmissionReviewer {
  constructor(private readonly opts: InjectionHandlerOptions) {}

  /** Throws BadAdmissionRequestError only when the body has no answerable request; everything else is an answer. */
  async review(body: unknown): Promise<Answer> {
    const request = readAdmissionRequest(body);
    const { metrics, log } = this.opts;
    try {
      const answer = await this.decide(request.uid, request);
      metrics.requests.inc({ result: answer.result });
      return answer;
    } catch (err) {
      const message = err instanceof Error ? err.message : String(err);
      metrics.failures.inc({ reason: 'internal' });
      metrics.requests.inc({ result: 'error' });
      log.error({ uid: request.uid, namespace: request.namespace, err: message, code: (err as { code?: string }).code }, 'injection failed');
      const text = `kube-dlp: sidecar injection failed: ${message}`;
      const review = this.opts.failurePolicy === 'Fail' ? deny(request.uid, text, 500) : allow(request.uid, [`${text}; admitted without the sidecar`]);
      return { review, result: 'error' };
    }
  }

  private async decide(uid: string, request: ReturnType<typeof readAdmissionRequest>): Promise<Answer> {
    const { metrics, log } = this.opts;
    const pod = request.object as Pod | undefined;
    const namespaceName = request.namespace ?? pod?.metadata?.namespace ?? '';
    const namespace = namespaceName ? await this.opts.namespaces.namespace(namespaceName) : undefined;
    const decision = decideInjection(
      { kind: request.kind, subResource: request.subResource, operation: request.operation, pod, namespace },
      this.opts.optIn,
    );
    // Not ours to judge: no pod, or a namespace that did not opt in.
    if (decision.kind === 'skip' && (decision.reason === 'not-a-pod' || decision.reason === 'namespace-not-opted-in')) {
      return this.skip(uid, namespaceName, decision.reason, decision.detail);
    }
    const name = podDisplayName(pod!, namespaceName);
    if (decision.kind === 'deny') return this.refuse(uid, 'invalid-namespace', `kube-dlp: pod ${name} not admitted: ${decision.message}`);

    const facts = (p: Pod): PodFacts => ({ pod: p, namespace: namespace!, username: request.userInfo?.username ?? '' });
    const identity: SidecarIdentity = { image: this.opts.config.image, command: this.opts.config.command };
    if (decision.kind === 'skip') {
      // Left as submitted (opted out, host network, mirror):
      // admitted only if it is protected or exempt, by the rules the
      // ValidatingAdmissionPolicy enforces too.
      const violation = podViolations(facts(pod!), identity)[0];
      if (violation) return this.refuse(uid, 'pod-not-protected', `${violation.message} (pod ${name})`);
      const exemption = grantedExemption(facts(pod!));
      if (exemption && isProtect(namespace!)) this.recordExemption(namespace!, name, exemption, request.dryRun === true);
      return this.skip(uid, namespaceName, decision.reason, decision.detail);
    }

    const allowances = await this.opts.allowances.allowances(namespaceName);
    const defaultCaptureMode = isProtect(namespace!) ? (this.opts.protectCaptureMode ?? 'transparent') : this.opts.defaultCaptureMode;
    const overrides = podOverrides(pod!.metadata.annotations ?? {}, { defaultCaptureMode, allowances });
    if (!overrides.ok) {
      return this.refuse(uid, 'invalid-annotations', `kube-dlp: pod ${name} not admitted: ${describeProblems(overrides.problems)}`);
    }
    const injected = injectPod(pod!, this.opts.template, this.opts.config, {
      tenant: decision.tenant,
      overrides: overrides.overrides,
      interceptTls: allowances.tlsIntercept,
    });
    // Injection keeps what the pod already has by name: a container of its own
    // called kube-dlp-proxy (a forged status, or none) stays, and is caught here.
    const violation = podViolations(facts(injected), identity)[0];
    if (violation) return this.refuse(uid, 'pod-not-protected', `${violation.message} (pod ${name})`);
    const patch = createPatch(pod, injected);
    metrics.injections.inc();
    log.info({ uid, pod: name, mode: overrides.overrides.captureMode, operations: patch.length, dryRun: request.dryRun }, 'injected');
    return { review: allowWithPatch(uid, patch), result: 'injected' };
  }

  private skip(uid: string, namespace: string, reason: SkipReason, detail: string): Answer {
    this.opts.metrics.skips.inc({ reason });
    this.opts.log.debug({ uid, namespace, reason, detail }, 'not injected');
    return { review: allow(uid), result: 'skipped' };
  }

  /** Every exemption used is counted and audited: the one way to run unprotected in Protect mode must stay visible. */
  private recordExemption(ns: NamespaceView, pod: string, exemption: { name: string; reason: string }, dryRun: boolean): void {
    this.opts.log.info({ pod, exemption: exemption.name, dryRun }, 'pod admitted without the sidecar under an exemption');
    if (dryRun) return;
    this.opts.metrics.exemptions.inc({ namespace: ns.name, exemption: exemption.name });
    this.opts.events?.record(
      { apiVersion: 'v1', kind: 'Namespace', name: ns.name, uid: ns.uid },
      {
        type: 'Warning',
        reason: EVENT_REASONS.sidecarExemptionUsed,
        note: `pod ${pod} admitted without the kube-dlp sidecar under exemption "${exemption.name}" (${exemption.reason})`,
        action: 'Admit',
      },
    );
  }

  private refuse(uid: string, reason: FailureReason, message: string): Answer {
    this.opts.metrics.failures.inc({ reason });
    this.opts.log.info({ uid, reason, message }, 'pod refused');
    return { review: deny(uid, message), result: 'denied' };
  }
}
