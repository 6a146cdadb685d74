// Every mode/action combination of the verdict, without sockets.
import t from 'tap';
import { decide, detectorIds, type LocatedFinding, type PolicyView } from '../../proxy/inspect-pipeline/verdict';
import type { Action, Finding } from '../../proxy/scan/types';

const finding = (detector: string, action: Action, over: Partial<Finding> = {}): Finding => ({
  detector,
  category: 'pci',
  severity: 'high',
  action,
  confidence: 0.9,
  start: 0,
  end: 16,
  masked: '4111********1111',
  ...over,
});
const at = (f: Finding, over: Partial<LocatedFinding> = {}): LocatedFinding => ({ finding: f, place: 'body', ...over });

const protect: PolicyView = { mode: 'Protect', actionFor: (f) => f.action, blocking: true };
const protectNonBlocking: PolicyView = { mode: 'Protect', actionFor: (f) => f.action, blocking: false };
const monitor: PolicyView = { mode: 'Monitor', actionFor: (f) => f.action, blocking: false };

t.test('Monitor records everything and changes nothing', async (t) => {
  const v = decide(monitor, [at(finding('pci.card-number', 'block')), at(finding('pii.email', 'redact'))]);
  t.equal(v.outcome, 'forward');
  t.equal(v.decision, 'allowed');
  t.same(v.findings.map((f) => f.applied), ['monitor', 'monitor']);
  t.match(v.reason, /Monitor mode/);
  const u = decide(monitor, [], { code: 'KDLP_DECODE_BOMB', reason: 'bomb' });
  t.equal(u.outcome, 'forward');
  t.equal(u.decision, 'uninspected');
});

t.test('Protect: block wins over redact and monitor', async (t) => {
  const v = decide(protect, [
    at(finding('pii.email', 'redact')),
    at(finding('pci.card-number', 'block')),
    at(finding('pii.phone', 'monitor')),
  ]);
  t.equal(v.outcome, 'block');
  t.equal(v.decision, 'blocked');
  t.same(v.findings.map((f) => f.applied), ['block', 'block', 'monitor']);
  t.match(v.reason, /pci\.card-number in body \(action block\)/);
  t.notMatch(v.reason, /4111/);
});

t.test('Protect: redact when every redaction is safe', async (t) => {
  const v = decide(protect, [at(finding('pii.email', 'redact')), at(finding('pii.phone', 'monitor'))]);
  t.equal(v.outcome, 'redact');
  t.equal(v.decision, 'redacted');
  t.equal(v.toRedact.length, 1);
  t.same(v.findings.map((f) => f.applied), ['redact', 'monitor']);
});

t.test('Protect: an unsafe redaction becomes a block that says why', async (t) => {
  const decoded = decide(protect, [at(finding('pii.email', 'redact'), { unredactable: 'only visible in a decoded view (base64)' })]);
  t.equal(decoded.outcome, 'block');
  t.equal(decoded.decision, 'blocked');
  t.match(decoded.reason, /cannot be redacted safely \(only visible in a decoded view \(base64\)\); blocked instead/);
  t.same(decoded.findings.map((f) => f.applied), ['block']);

  const late = decide(protect, [at(finding('pii.email', 'redact'), { late: true })]);
  t.equal(late.outcome, 'block');
  t.equal(late.decision, 'blocked_late');
  t.match(late.reason, /found after forwarding began/);
});

t.test('Protect: late block findings are blocked_late', async (t) => {
  const v = decide(protect, [at(finding('pci.card-number', 'block'), { late: true })]);
  t.equal(v.decision, 'blocked_late');
  t.match(v.reason, /upstream request aborted/);
});

t.test('uninspectable content: blocked by a blocking profile only', async (t) => {
  const problem = { code: 'KDLP_DECODE_UNSUPPORTED', reason: 'unsupported content-encoding "zstd"' };
  const blocked = decide(protect, [], problem);
  t.equal(blocked.outcome, 'block');
  t.match(blocked.reason, /uninspectable content blocked by a blocking profile: unsupported content-encoding/);
  const passed = decide(protectNonBlocking, [], problem);
  t.equal(passed.outcome, 'forward');
  t.equal(passed.decision, 'uninspected');
});

t.test('nothing found: allowed', async (t) => {
  const v = decide(protect, []);
  t.same({ outcome: v.outcome, decision: v.decision, reason: v.reason }, { outcome: 'forward', decision: 'allowed', reason: '' });
});

t.test('detectorIds is unique and ordered', async (t) => {
  t.same(detectorIds([at(finding('b', 'block')), at(finding('a', 'block')), at(finding('b', 'block'))]), ['b', 'a']);
});

t.test('uninspectableRule: blocking profiles, egress.uninspectable and its exceptions', async (t) => {
  const { parseProfile } = await import('../../proxy/profile');
  const { policyOf, uninspectableRule } = await import('../../proxy/inspect-pipeline/verdict');
  const profile = (spec: string) =>
    parseProfile(`apiVersion: kubedlp.io/v1alpha1
kind: SecurityProfile
metadata: { name: p, namespace: n }
spec:
${spec}`);
  const dest = (host: string, port = 80) => ({ host, port, scheme: 'http' as const });

  const blocking = profile(`  mode: Protect
  detectors: { enable: [pci.card-number], overrides: [{ id: pci.card-number, action: block }] }
  egress: { uninspectable: Allow }`);
  t.same(uninspectableRule(blocking, policyOf(blocking), dest('a.example')), { block: true, because: 'blocked by a blocking profile' });

  const monitorOnly = profile(`  mode: Protect
  detectors: { enable: [pii.email], overrides: [{ id: pii.email, action: monitor }] }
  egress:
    uninspectable: Deny
    allow: [{ host: vault.internal, ports: [8200], allowUninspectable: true }]`);
  t.equal(policyOf(monitorOnly).blocking, false);
  t.same(uninspectableRule(monitorOnly, policyOf(monitorOnly), dest('a.example')), { block: true, because: 'denied by egress.uninspectable' });
  t.same(uninspectableRule(monitorOnly, policyOf(monitorOnly), dest('vault.internal', 8200)), { block: false, because: '' }, 'exception');

  const monitorMode = profile(`  mode: Monitor
  egress: { uninspectable: Deny }`);
  t.same(uninspectableRule(monitorMode, policyOf(monitorMode), dest('a.example')), { block: false, because: '' }, 'Monitor enforces nothing');
});

t.test('a body judged again and again shares one applied copy per finding and action', async (t) => {
  // The inspection stage re-judges every kept finding at each chunk that brings a new one.
  const kept = [at(finding('pci.card-number', 'block')), at(finding('pii.email', 'redact'))];
  const first = decide(monitor, kept);
  const again = decide(monitor, [...kept, at(finding('pii.phone', 'monitor'))]);
  t.equal(again.findings[0], first.findings[0], 'the same copy, not a new one per verdict');
  t.equal(again.findings[1], first.findings[1]);
  t.ok(Object.isFrozen(first.findings[0]), 'shared copies cannot be changed by one reader for the others');
  // The same finding under another action is another copy, with that action.
  const blocked = decide(protect, kept);
  t.not(blocked.findings[0], first.findings[0]);
  t.same(blocked.findings.map((f) => f.applied), ['block', 'block']);
  t.same(first.findings.map((f) => f.applied), ['monitor', 'monitor'], 'earlier verdicts keep their own action');
  t.equal(first.findings[0]!.finding, kept[0]!.finding, 'the finding itself is not copied');
});
