// The opt-in decision: which namespaces the operator manages, and why not.
import t from 'tap';
import { decideOptIn } from '../../operator/decide/opt-in';
import { annotationIssues } from '../../operator/decide/annotations';
import { resolveProfile, profileKey } from '../../operator/decide/resolve-profile';
import type { NamespaceView, ProfileView } from '../../operator/model/views';

const ns = (name: string, annotations: Record<string, string> = {}, terminating = false): NamespaceView => ({
  name,
  uid: `uid-${name}`,
  labels: {},
  annotations,
  terminating,
});
const ctx = { operatorNamespace: 'kube-dlp-system' };

t.test('opted in: tenant defaults to the namespace, profile to "default"', async (t) => {
  t.same(decideOptIn(ns('shop', { 'kubedlp.io/inject': 'enabled' }), ctx), {
    kind: 'opted-in',
    tenant: 'shop',
    profileName: 'default',
  });
  t.same(
    decideOptIn(ns('shop', { 'kubedlp.io/inject': 'enabled', 'kubedlp.io/tenant': 'acme', 'kubedlp.io/profile': 'strict' }), ctx),
    { kind: 'opted-in', tenant: 'acme', profileName: 'strict' },
  );
});

t.test('not opted in, each with its reason', async (t) => {
  const reasons = [
    [ns('shop'), 'annotation kubedlp.io/inject is not set'],
    [ns('shop', { 'kubedlp.io/inject': 'disabled' }), 'kubedlp.io/inject is "disabled"'],
    [ns('shop', { 'kubedlp.io/inject': 'enabled' }, true), 'namespace is terminating'],
    [ns('kube-system', { 'kubedlp.io/inject': 'enabled' }), 'kube-system is a system namespace'],
    [ns('kube-public', { 'kubedlp.io/inject': 'enabled' }), 'kube-public is a system namespace'],
    [ns('kube-dlp-system', { 'kubedlp.io/inject': 'enabled' }), "the operator's own namespace is never managed"],
  ] as const;
  for (const [view, reason] of reasons) t.same(decideOptIn(view, ctx), { kind: 'not-opted-in', reason }, reason);
});

t.test('invalid annotations: every problem reported at once, nothing decided', async (t) => {
  const d = decideOptIn(
    ns('shop', { 'kubedlp.io/inject': 'true', 'kubedlp.io/tenant': 'acme corp', 'kubedlp.io/profile': 'Strict_Profile' }),
    ctx,
  );
  t.equal(d.kind, 'invalid');
  if (d.kind !== 'invalid') return;
  t.same(d.issues.map((i) => i.annotation), ['kubedlp.io/inject', 'kubedlp.io/profile', 'kubedlp.io/tenant']);
  t.match(d.reason, /kubedlp\.io\/inject must be "enabled" or "disabled"/);
  t.match(d.reason, /kubedlp\.io\/tenant must be a valid label value/);
  // An invalid tenant even when the namespace opts out: reported, not applied.
  t.equal(decideOptIn(ns('shop', { 'kubedlp.io/inject': 'disabled', 'kubedlp.io/tenant': '-x' }), ctx).kind, 'invalid');
});

t.test('annotation table: boundaries', async (t) => {
  t.same(annotationIssues({ 'kubedlp.io/tenant': 'a'.repeat(63) }), []);
  t.equal(annotationIssues({ 'kubedlp.io/tenant': 'a'.repeat(64) }).length, 1);
  t.same(annotationIssues({ 'kubedlp.io/tenant': 'Acme_Corp.eu-1' }), []);
  t.same(annotationIssues({ 'kubedlp.io/profile': 'team.strict-1' }), []);
  t.equal(annotationIssues({ 'kubedlp.io/profile': '' }).length, 1);
  t.same(annotationIssues({ 'kubedlp.io/other': 'whatever' }), [], 'unknown kubedlp.io annotations are not ours to police');
});

const profile = (kind: ProfileView['kind'], name: string, namespace?: string): ProfileView => ({
  kind,
  name,
  namespace,
  uid: `${kind}-${namespace ?? ''}-${name}`,
  generation: 1,
  spec: {},
});

t.test('profile resolution: a SecurityProfile in the namespace shadows the ClusterSecurityProfile', async (t) => {
  const profiles = [
    profile('ClusterSecurityProfile', 'default'),
    profile('ClusterSecurityProfile', 'strict'),
    profile('SecurityProfile', 'default', 'shop'),
  ];
  const lookup = {
    securityProfile: (n: string, name: string) => profiles.find((p) => p.kind === 'SecurityProfile' && p.namespace === n && p.name === name),
    clusterSecurityProfile: (name: string) => profiles.find((p) => p.kind === 'ClusterSecurityProfile' && p.name === name),
  };
  t.equal(profileKey(resolveProfile('shop', 'default', lookup)!), 'SecurityProfile/shop/default');
  t.equal(profileKey(resolveProfile('web', 'default', lookup)!), 'ClusterSecurityProfile/default');
  t.equal(profileKey(resolveProfile('shop', 'strict', lookup)!), 'ClusterSecurityProfile/strict');
  t.equal(resolveProfile('shop', 'missing', lookup), undefined);
});
