// Whether a namespace is managed, as one pure function that says why: the
// reason is logged, put in Events and asserted by tests. Checks run in a fixed
// order and the first that applies decides (Pepr's skip-reason style).
import {
  ANNOTATION_INJECT,
  ANNOTATION_PROFILE,
  ANNOTATION_TENANT,
  DEFAULT_PROFILE_NAME,
  INJECT_DISABLED,
  SYSTEM_NAMESPACES,
} from '../api/names';
import type { NamespaceView } from '../model/views';
import { annotationIssues, type AnnotationIssue } from './annotations';

export type OptInDecision =
  /** Render its profile, label it, isolate it. */
  | { kind: 'opted-in'; tenant: string; profileName: string }
  /** Not managed: anything the operator wrote there is removed. */
  | { kind: 'not-opted-in'; reason: string }
  /**
   * The annotations ask for something invalid. Nothing is changed (a typo in
   * the tenant must not strip a namespace of its protection) until fixed.
   */
  | { kind: 'invalid'; reason: string; issues: AnnotationIssue[] };

export interface OptInContext {
  /** The operator's own namespace: never injected (the proxy would sit in front of the operator). */
  operatorNamespace: string;
}

export function decideOptIn(ns: NamespaceView, ctx: OptInContext): OptInDecision {
  if (ns.terminating) return { kind: 'not-opted-in', reason: 'namespace is terminating' };
  if (SYSTEM_NAMESPACES.includes(ns.name)) return { kind: 'not-opted-in', reason: `${ns.name} is a system namespace` };
  if (ns.name === ctx.operatorNamespace) return { kind: 'not-opted-in', reason: "the operator's own namespace is never managed" };
  const inject = ns.annotations[ANNOTATION_INJECT];
  if (inject === undefined) return { kind: 'not-opted-in', reason: `annotation ${ANNOTATION_INJECT} is not set` };
  const issues = annotationIssues(ns.annotations);
  if (issues.length > 0) {
    return {
      kind: 'invalid',
      reason: `invalid annotations (nothing changed until fixed): ${issues.map((i) => `${i.annotation} ${i.message}`).join('; ')}`,
      issues,
    };
  }
  if (inject === INJECT_DISABLED) return { kind: 'not-opted-in', reason: `${ANNOTATION_INJECT} is "${INJECT_DISABLED}"` };
  return {
    kind: 'opted-in',
    tenant: ns.annotations[ANNOTATION_TENANT] ?? ns.name,
    profileName: ns.annotations[ANNOTATION_PROFILE] ?? DEFAULT_PROFILE_NAME,
  };
}
