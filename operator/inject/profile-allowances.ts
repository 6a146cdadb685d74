// What a namespace's rendered profile lets a pod opt out of. A pod that
// excludes destinations from capture (or picks explicit capture, which only
// proxy-aware clients honour) sends that traffic around the proxy: to the
// profile it is *uninspectable* egress. So the profile's existing rules
// decide: when `egress.uninspectable` is Allow (explicitly, or by default in
// Monitor mode) any bypass is allowed; when it is Deny, only destinations an
// `egress.allow` rule marks `allowUninspectable` may be bypassed.
import { BlockList } from 'node:net';
import { parse } from 'yaml';
import { parseCidr, parsePortSpec, type Cidr, type PortRange } from '../../proxy/policy/egress-syntax';

export interface ProfileAllowances {
  /** Where the answer came from, for messages: "SecurityProfile shop/strict". */
  source: string;
  /** True when the profile allows any uninspectable egress. */
  uninspectableAllowed: boolean;
  /** Networks reachable uninspected although uninspectable egress is denied. */
  uninspectableCidrs: readonly Cidr[];
  /** Ports (on any destination) reachable uninspected although uninspectable egress is denied. */
  uninspectablePorts: readonly PortRange[];
  /** The profile sets tls.intercept: Enabled: pods get the tenant CA (proxy) and its trust (apps). */
  tlsIntercept: boolean;
}

interface RenderedShape {
  profile?: { name?: unknown; namespace?: unknown };
  spec?: {
    mode?: unknown;
    egress?: { uninspectable?: unknown; allow?: { host?: unknown; cidr?: unknown; ports?: unknown; allowUninspectable?: unknown }[] };
    tls?: { intercept?: unknown };
  };
}

/**
 * Reads the allowances from the rendered profile (profile.yaml of the
 * kube-dlp-profile ConfigMap). The operator rendered it from a validated
 * profile; anything unreadable here yields the strictest answer.
 */
export function allowancesFromRenderedProfile(text: string): ProfileAllowances {
  let doc: RenderedShape;
  try {
    doc = (parse(text) ?? {}) as RenderedShape;
  } catch {
    return strictest('an unreadable rendered profile');
  }
  const name = typeof doc.profile?.name === 'string' ? doc.profile.name : 'unknown';
  const ns = typeof doc.profile?.namespace === 'string' ? `${doc.profile.namespace}/` : '';
  const source = `profile ${ns}${name}`;
  const mode = doc.spec?.mode === 'Protect' ? 'Protect' : 'Monitor';
  const explicit = doc.spec?.egress?.uninspectable;
  const uninspectableAllowed = explicit === 'Allow' || (explicit !== 'Deny' && mode === 'Monitor');
  const cidrs: Cidr[] = [];
  const ports: PortRange[] = [];
  for (const rule of Array.isArray(doc.spec?.egress?.allow) ? doc.spec.egress.allow : []) {
    if (rule?.allowUninspectable !== true || rule.host !== undefined) continue;
    const rulePorts = Array.isArray(rule.ports) ? rule.ports.map(parsePortSpec) : undefined;
    if (typeof rule.cidr === 'string') {
      // A CIDR rule limited to some ports only exempts those ports: not a whole network.
      const c = parseCidr(rule.cidr);
      if (c.ok && rulePorts === undefined) cidrs.push(c.value);
    } else if (rulePorts) {
      for (const p of rulePorts) if (p.ok) ports.push(p.value);
    }
  }
  return { source, uninspectableAllowed, uninspectableCidrs: cidrs, uninspectablePorts: ports, tlsIntercept: doc.spec?.tls?.intercept === 'Enabled' };
}

/** No rendered profile (yet): nothing may bypass the proxy. */
export function strictest(source: string): ProfileAllowances {
  return { source, uninspectableAllowed: false, uninspectableCidrs: [], uninspectablePorts: [], tlsIntercept: false };
}

/** True when every address of `inner` lies in one of `outer`. */
export function cidrCovered(inner: Cidr, outer: readonly Cidr[]): boolean {
  for (const o of outer) {
    if (o.family !== inner.family || o.prefix > inner.prefix) continue;
    const list = new BlockList();
    list.addSubnet(o.address, o.prefix, o.family);
    // inner's prefix is at least as long as outer's, so one address decides for all of them.
    if (list.check(inner.address, inner.family)) return true;
  }
  return false;
}

export function portCovered(inner: PortRange, outer: readonly PortRange[]): boolean {
  return outer.some((o) => o.from <= inner.from && inner.to <= o.to);
}
