// What applying a suggestion would change in a current profile, line by
// line: mode, egress default, allow rules (by host/cidr and ports) and
// detector overrides. A review aid for `profile suggest --diff`, not a patch.
import type { SecurityProfileSpec } from '../../proxy/profile';

type Spec = Partial<SecurityProfileSpec>;

export interface ProfileChange {
  sign: '+' | '-' | '~';
  text: string;
}

export function diffProfiles(current: Spec, suggested: Spec): ProfileChange[] {
  const changes: ProfileChange[] = [];
  const modeNow = current.mode ?? 'Monitor';
  if (suggested.mode !== undefined && suggested.mode !== modeNow) changes.push({ sign: '~', text: `mode: ${modeNow} -> ${suggested.mode}` });
  const defNow = current.egress?.default ?? 'Allow';
  const defNew = suggested.egress?.default ?? 'Allow';
  if (defNow !== defNew) changes.push({ sign: '~', text: `egress.default: ${defNow} -> ${defNew}` });

  const nowRules = new Map((current.egress?.allow ?? []).map((r) => [ruleKey(r), r]));
  const newRules = new Map((suggested.egress?.allow ?? []).map((r) => [ruleKey(r), r]));
  for (const [key, rule] of newRules) {
    const was = nowRules.get(key);
    if (was === undefined) changes.push({ sign: '+', text: `egress.allow ${describeRule(rule)}` });
    else if (describeRule(was) !== describeRule(rule)) changes.push({ sign: '~', text: `egress.allow ${describeRule(was)} -> ${describeRule(rule)}` });
  }
  for (const [key, rule] of nowRules) if (!newRules.has(key)) changes.push({ sign: '-', text: `egress.allow ${describeRule(rule)}` });

  const nowOv = new Map((current.detectors?.overrides ?? []).map((o) => [o.id, o.action]));
  const newOv = new Map((suggested.detectors?.overrides ?? []).map((o) => [o.id, o.action]));
  for (const [id, action] of newOv) {
    const was = nowOv.get(id);
    if (was === undefined) changes.push({ sign: '+', text: `detectors.overrides ${id}: ${action}` });
    else if (was !== action) changes.push({ sign: '~', text: `detectors.overrides ${id}: ${was} -> ${action}` });
  }
  // Overrides the suggestion has no evidence for are kept by a reviewer, not removed: say so rather than "-".
  for (const [id, action] of nowOv) if (!newOv.has(id)) changes.push({ sign: '-', text: `detectors.overrides ${id}: ${action} (did not fire while observed)` });
  return changes;
}

export function formatChanges(changes: readonly ProfileChange[]): string {
  if (changes.length === 0) return 'no changes\n';
  return changes.map((c) => `${c.sign} ${c.text}\n`).join('');
}

function ruleKey(r: { host?: string; cidr?: string }): string {
  return r.host !== undefined ? `host=${r.host.toLowerCase()}` : `cidr=${r.cidr ?? '*'}`;
}

function describeRule(r: { host?: string; cidr?: string; ports?: Array<number | string>; allowUninspectable?: boolean }): string {
  const ports = r.ports === undefined || r.ports.length === 0 ? 'any port' : `ports ${r.ports.join(',')}`;
  return `${ruleKey(r)} ${ports}${r.allowUninspectable ? ' allowUninspectable' : ''}`;
}
