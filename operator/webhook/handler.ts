// Answers one AdmissionReview: decide, check the pod's annotations, inject,
// diff. Exceptions become an answer too, following the webhook's failure
// policy: under Fail (the default) the pod is refused with the error, as the
// API server would refuse it if the webhook were down; under Ignore it is
// admitted unchanged with a warning, as the API server would admit it. Either
// way the failure is counted, and a pod admitted without the sidecar is then
// reported by the rollout controller.
import type { OptInContext } from '../decide/opt-in';
import { decideInjection } from '../inject/decide-injection';
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
  defaultCaptureMode: CaptureMode;
  optIn: OptInContext;
  failurePolicy: FailurePolicy;
  namespaces: NamespaceSource;
  allowances: AllowanceSource;
  metrics: WebhookMetrics;
  log: Logger;
}

export interface Answer {
  review: AdmissionReviewOut;
  result: RequestResult;
}

export class InjectionHandler {
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
    if (decision.kind === 'skip') {
      metrics.skips.inc({ reason: decision.reason });
      log.debug({ uid, namespace: namespaceName, reason: decision.reason, detail: decision.detail }, 'not injected');
      return { review: allow(uid), result: 'skipped' };
    }
    const name = podDisplayName(pod!, namespaceName);
    if (decision.kind === 'deny') return this.refuse(uid, 'invalid-namespace', `kube-dlp: pod ${name} not admitted: ${decision.message}`);

    const allowances = await this.opts.allowances.allowances(namespaceName);
    const overrides = podOverrides(pod!.metadata.annotations ?? {}, { defaultCaptureMode: this.opts.defaultCaptureMode, allowances });
    if (!overrides.ok) {
      return this.refuse(uid, 'invalid-annotations', `kube-dlp: pod ${name} not admitted: ${describeProblems(overrides.problems)}`);
    }
    const injected = injectPod(pod!, this.opts.template, this.opts.config, { tenant: decision.tenant, overrides: overrides.overrides });
    const patch = createPatch(pod, injected);
    metrics.injections.inc();
    log.info({ uid, pod: name, mode: overrides.overrides.captureMode, operations: patch.length, dryRun: request.dryRun }, 'injected');
    return { review: allowWithPatch(uid, patch), result: 'injected' };
  }

  private refuse(uid: string, reason: FailureReason, message: string): Answer {
    this.opts.metrics.failures.inc({ reason });
    this.opts.log.info({ uid, reason, message }, 'pod refused');
    return { review: deny(uid, message), result: 'denied' };
  }
}
