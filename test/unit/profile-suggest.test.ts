// Suggesting a profile from observations: grouping into globs, actions per
// category, evidence as counts only, exclusions, merge of several pods, diff.
import t from 'tap';
import { parse } from 'yaml';
import { groupDestinations, parentOf } from '../../operator/discover/host-groups';
import { proposedAction, suggestProfile } from '../../operator/discover/suggest-profile';
import { suggestionYaml } from '../../operator/discover/suggestion-yaml';
import { diffProfiles } from '../../operator/discover/profile-diff';
import { proposalObject, suggestionFromProposal } from '../../operator/discover/proposal-object';
import { mergeObserved, parseObservedSummary } from '../../proxy/observe/merge-observed';
import { ObservedEgress } from '../../proxy/observe/observed-egress';
import { parseProfile } from '../../proxy/profile';

function sidecar(pod: string, traffic: Array<[string, number, string?, string?]>) {
  const o = new ObservedEgress({ pod, namespace: 'shop', tenant: 'shop' });
  for (const [host, port, detector, scheme] of traffic) {
    const findings = detector ? [{ detector, category: detector.split('.')[0]!, severity: detector.startsWith('pci') ? 'critical' : 'low', action: 'monitor' }] : [];
    o.record({ destination: { host, port, scheme: scheme ?? 'http' }, shownDestination: `${host}:${port}`, method: 'POST', decision: 'allowed', requestBytes: 5, findings });
  }
  return o.summary();
}

t.test('globs need three siblings and never reach a registry suffix', async (t) => {
  t.equal(parentOf('a.cdn.example.com'), 'cdn.example.com');
  t.equal(parentOf('a.example.com'), 'example.com');
  t.equal(parentOf('example.com'), undefined, 'no *.com');
  t.equal(parentOf('shop.co.uk'), undefined, 'no *.co.uk');
  const merged = mergeObserved([sidecar('p', [['a.cdn.example.com', 443], ['b.cdn.example.com', 443], ['c.cdn.example.com', 8443], ['api.other.io', 443], ['db.other.io', 5432], ['10.0.0.7', 80], ['10.0.0.7', 81]])]);
  const groups = groupDestinations(merged.destinations);
  t.same(
    groups.map((g) => [g.kind, g.value, g.ports]),
    [
      ['cidr', '10.0.0.7/32', [80, 81]],
      ['host', '*.cdn.example.com', [443, 8443]],
      ['host', 'api.other.io', [443]],
      ['host', 'db.other.io', [5432]],
    ],
  );
});

t.test('actions: critical blocks, pii redacts, pci and secrets block, custom keeps its own', async (t) => {
  t.equal(proposedAction('pii', 'critical'), 'block');
  t.equal(proposedAction('pii', 'high'), 'redact');
  t.equal(proposedAction('secret', 'high'), 'block');
  t.equal(proposedAction('pci', 'high'), 'block');
  t.equal(proposedAction('custom', 'medium'), undefined);
});

t.test('a suggestion from two pods validates, carries evidence and leaves out what it must', async (t) => {
  const a = sidecar('a', [['api.pay.example', 443, 'pci.card-number'], ['api.pay.example', 443], ['mail.example.org', 25, 'pii.email', 'tcp']]);
  const b = sidecar('b', [['api.pay.example', 443], ['lookup.example.org', 53, 'custom.order-id']]);
  const masked = new ObservedEgress({ pod: 'c', namespace: 'shop', tenant: 'shop' });
  masked.record({ destination: { host: '4111111111111111.x.example', port: 80, scheme: 'http' }, shownDestination: '****************.x.example:80', method: 'GET', decision: 'allowed', requestBytes: 0, findings: [] });
  const merged = mergeObserved([a, b, parseObservedSummary(JSON.parse(JSON.stringify(masked.summary())), 'c')]);
  t.same(merged.sources, ['shop/a', 'shop/b', 'shop/c']);
  const pay = merged.destinations.find((d) => d.host === 'api.pay.example')!;
  t.match(pay, { pods: 2, requests: 3 });

  const s = suggestProfile(merged, { name: 'learned', namespace: 'shop' });
  const yaml = suggestionYaml(s);
  t.notOk(yaml.includes('4111111111111111'), 'no value from a masked host');
  t.match(yaml, /left out: \*+\.x\.example:80: a detector matched inside the host name/);
  t.match(yaml, /left out: custom\.order-id: fired 1 time .* not a library detector/);
  t.match(yaml, /# seen: 3 requests \(POST 3\) from 2 pods/);
  t.match(yaml, /includes tunnels the proxy could not inspect/);
  const cfg = parseProfile(yaml, 'suggestion');
  t.equal(cfg.spec.egress.default, 'Deny');
  t.same(cfg.spec.egress.allow.map((r) => [r.host, r.ports, r.allowUninspectable]), [
    ['api.pay.example', [443], undefined],
    ['lookup.example.org', [53], undefined],
    ['mail.example.org', [25], true],
  ]);
  t.same(parse(yaml).spec.detectors.overrides, [
    { id: 'pci.card-number', action: 'block' },
    { id: 'pii.email', action: 'redact' },
  ]);

  const back = suggestionFromProposal(proposalObject(s, { pods: 3, answered: 3, skipped: 0 }), { name: 'learned' });
  t.equal(suggestionYaml(back), yaml, 'a proposal object round-trips to the same YAML');
});

t.test('destinations the profile in force refused are not allowed', async (t) => {
  const o = new ObservedEgress({ pod: 'p', namespace: 'shop', tenant: 'shop' });
  o.record({ destination: { host: 'pastebin.com', port: 80, scheme: 'http' }, shownDestination: 'pastebin.com:80', method: 'POST', decision: 'denied_destination', requestBytes: 4, findings: [] });
  o.record({ destination: { host: 'api.shop.example', port: 80, scheme: 'http' }, shownDestination: 'api.shop.example:80', method: 'GET', decision: 'allowed', requestBytes: 0, findings: [] });
  const s = suggestProfile(mergeObserved([o.summary()]), { name: 'n', namespace: 'shop' });
  t.same(s.allow.map((r) => r.value.host), ['api.shop.example']);
  t.match(s.excluded, [/pastebin\.com:80: all 1 requests were refused by the profile in force/]);
});

t.test('an empty observation still gives a valid Monitor suggestion', async (t) => {
  const s = suggestProfile(mergeObserved([]), { name: 'n', namespace: 'ns', mode: 'Monitor' });
  t.equal(parseProfile(suggestionYaml(s), 'empty').spec.mode, 'Monitor');
});

t.test('diff names mode, default, rules and overrides', async (t) => {
  const changes = diffProfiles(
    { mode: 'Monitor', egress: { default: 'Allow', allow: [{ host: 'old.example', ports: [443] }, { host: 'keep.example', ports: [80] }], deny: [] }, detectors: { disable: [], custom: [], overrides: [{ id: 'pii.email', action: 'monitor' }, { id: 'pii.phone', action: 'block' }] } },
    { mode: 'Protect', egress: { default: 'Deny', allow: [{ host: 'keep.example', ports: [80, 8080] }, { host: 'new.example', ports: [443] }], deny: [] }, detectors: { disable: [], custom: [], overrides: [{ id: 'pii.email', action: 'redact' }] } },
  );
  t.same(changes.map((c) => `${c.sign} ${c.text}`), [
    '~ mode: Monitor -> Protect',
    '~ egress.default: Allow -> Deny',
    '~ egress.allow host=keep.example ports 80 -> host=keep.example ports 80,8080',
    '+ egress.allow host=new.example ports 443',
    '- egress.allow host=old.example ports 443',
    '~ detectors.overrides pii.email: monitor -> redact',
    '- detectors.overrides pii.phone: block (did not fire while observed)',
  ]);
});

t.test('a summary that is not one is refused with the source named', async (t) => {
  t.throws(() => parseObservedSummary({ hello: 1 }, 'http://x'), /http:\/\/x is not a kube-dlp \/observed summary/);
  t.throws(() => parseObservedSummary({ version: 1, destinations: [{ host: 1 }] }, 's'), /lacks host, port/);
});
