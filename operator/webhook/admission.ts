// admission.k8s.io/v1 AdmissionReview: reading a request and writing the
// answer. Only what the injection webhook needs; the API server sends more.
import type { Operation } from '../inject/json-patch';
import { BadAdmissionRequestError } from '../errors';

export const ADMISSION_API_VERSION = 'admission.k8s.io/v1';

export interface AdmissionRequest {
  uid: string;
  kind: { group: string; version: string; kind: string };
  resource?: { group: string; version: string; resource: string };
  subResource?: string;
  namespace?: string;
  operation: string;
  object?: unknown;
  dryRun?: boolean;
  /** Who asked: a mirror pod is a mirror only when a kubelet creates it. */
  userInfo?: { username?: string };
}

export interface AdmissionResponse {
  uid: string;
  allowed: boolean;
  patchType?: 'JSONPatch';
  /** base64 of the JSON Patch. */
  patch?: string;
  status?: { code: number; reason?: string; message: string };
  warnings?: string[];
}

export interface AdmissionReviewOut {
  apiVersion: typeof ADMISSION_API_VERSION;
  kind: 'AdmissionReview';
  response: AdmissionResponse;
}

/** The request of an AdmissionReview, or BadAdmissionRequestError (answered with HTTP 400: there is no uid to answer). */
export function readAdmissionRequest(body: unknown): AdmissionRequest {
  const review = body as { apiVersion?: unknown; kind?: unknown; request?: Partial<AdmissionRequest> } | null;
  if (review === null || typeof review !== 'object' || Array.isArray(review)) throw new BadAdmissionRequestError('body is not an AdmissionReview object');
  if (review.kind !== 'AdmissionReview') throw new BadAdmissionRequestError(`kind is ${JSON.stringify(review.kind)}, not AdmissionReview`);
  if (review.apiVersion !== ADMISSION_API_VERSION) {
    throw new BadAdmissionRequestError(`apiVersion ${JSON.stringify(review.apiVersion)} is not served; register the webhook with admissionReviewVersions [v1]`);
  }
  const r = review.request;
  if (!r || typeof r !== 'object') throw new BadAdmissionRequestError('AdmissionReview has no request');
  if (typeof r.uid !== 'string' || r.uid === '') throw new BadAdmissionRequestError('request.uid is missing');
  const kind = r.kind && typeof r.kind === 'object' ? r.kind : { group: '', version: '', kind: '' };
  return {
    uid: r.uid,
    kind: { group: String(kind.group ?? ''), version: String(kind.version ?? ''), kind: String(kind.kind ?? '') },
    resource: r.resource,
    subResource: typeof r.subResource === 'string' && r.subResource !== '' ? r.subResource : undefined,
    namespace: typeof r.namespace === 'string' ? r.namespace : undefined,
    operation: String(r.operation ?? ''),
    object: r.object,
    dryRun: r.dryRun === true,
    userInfo: { username: typeof r.userInfo?.username === 'string' ? r.userInfo.username : '' },
  };
}

function wrap(response: AdmissionResponse): AdmissionReviewOut {
  return { apiVersion: ADMISSION_API_VERSION, kind: 'AdmissionReview', response };
}

export function allow(uid: string, warnings?: string[]): AdmissionReviewOut {
  return wrap({ uid, allowed: true, ...(warnings && warnings.length > 0 ? { warnings } : {}) });
}

export function allowWithPatch(uid: string, patch: readonly Operation[]): AdmissionReviewOut {
  if (patch.length === 0) return allow(uid);
  return wrap({ uid, allowed: true, patchType: 'JSONPatch', patch: Buffer.from(JSON.stringify(patch)).toString('base64') });
}

/** A refusal the user can act on (403: their pod or namespace asks for something not allowed). */
export function deny(uid: string, message: string, code = 403): AdmissionReviewOut {
  return wrap({ uid, allowed: false, status: { code, reason: code === 403 ? 'Forbidden' : 'InternalError', message } });
}
