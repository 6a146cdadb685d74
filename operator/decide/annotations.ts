// The namespace annotations users write, validated from one table so that
// every problem is reported at once (Istio's annotation validation style).
import {
  ANNOTATION_INJECT,
  ANNOTATION_PROFILE,
  ANNOTATION_TENANT,
  INJECT_DISABLED,
  INJECT_ENABLED,
} from '../api/names';

export interface AnnotationIssue {
  annotation: string;
  message: string;
}

/** RFC 1123 subdomain: the names of Kubernetes objects, hence of profiles. */
const DNS_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;
/** A label value: the tenant becomes the namespace label kubedlp.io/tenant. */
const LABEL_VALUE = /^[A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?$/;

interface AnnotationRule {
  key: string;
  /** Returns why the value is invalid, or undefined. */
  check(value: string): string | undefined;
}

export const ANNOTATION_RULES: readonly AnnotationRule[] = [
  {
    key: ANNOTATION_INJECT,
    check: (v) => (v === INJECT_ENABLED || v === INJECT_DISABLED ? undefined : `must be "${INJECT_ENABLED}" or "${INJECT_DISABLED}"`),
  },
  {
    key: ANNOTATION_PROFILE,
    check: (v) =>
      v.length <= 253 && DNS_SUBDOMAIN.test(v)
        ? undefined
        : 'must name a profile: lowercase letters, digits, "-" and ".", at most 253 characters',
  },
  {
    key: ANNOTATION_TENANT,
    check: (v) =>
      v.length <= 63 && LABEL_VALUE.test(v)
        ? undefined
        : 'must be a valid label value: at most 63 letters, digits, "-", "_" or ".", starting and ending alphanumeric',
  },
];

/** Every invalid kubedlp.io annotation among `annotations`; absent ones are fine (they have defaults). */
export function annotationIssues(annotations: Readonly<Record<string, string>>): AnnotationIssue[] {
  const issues: AnnotationIssue[] = [];
  for (const rule of ANNOTATION_RULES) {
    const value = annotations[rule.key];
    if (value === undefined) continue;
    const problem = rule.check(value);
    if (problem !== undefined) issues.push({ annotation: rule.key, message: problem });
  }
  return issues;
}
