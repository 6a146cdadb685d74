// What a pod in an opted-in namespace must be to be admitted, as ONE table:
// each rule is a CEL expression for the ValidatingAdmissionPolicy (evaluated
// by the API server itself, so it holds while the operator is down) and the
// same rule in TypeScript for the injection webhook, which checks the pod it
// is about to admit (so a forged sidecar is refused with the same words,
// whether or not the policy is installed). The integration test
// (test/integration/admission-policy.test.ts) holds the two to the same
// answers on a real API server.
import {
  ENFORCEMENT_MONITOR,
  EXEMPTION_ANNOTATION_PREFIX,
  INJECT_DISABLED,
  LABEL_ENFORCEMENT,
  LABEL_EXEMPTION,
  ANNOTATION_INJECT,
} from '../api/names';
import {
  ANNOTATION_EXCLUDE_OUTBOUND_CIDRS,
  ANNOTATION_EXCLUDE_OUTBOUND_PORTS,
  INIT_IPTABLES_CONTAINER,
  PROFILE_CONFIGMAP,
  PROFILE_VOLUME,
  PROXY_ADMIN_PORT,
  PROXY_CONTAINER,
  PROXY_PORT,
  TENANTS_CONFIGMAP,
  TENANTS_VOLUME,
} from '../inject/names';
import type { Container, Pod } from '../inject/pod';
import { inProxyUidRange, PROXY_UID_MAX, PROXY_UID_MIN } from '../inject/proxy-uid';

/** What makes a container the real sidecar: the operator's image and command (the pod cannot change which binary runs). */
export interface SidecarIdentity {
  image: string;
  command: readonly string[];
}

/** The mounts and flags the template gives the proxy (sidecar-template.yaml); a proxy without them reads no profile. */
export const PROXY_PROFILE_FLAG = '--profile=/etc/kube-dlp/profile/profile.yaml';
export const PROXY_TENANTS_FLAG = '--tenant-directory=/etc/kube-dlp/tenants/tenants.yaml';
const PROXY_MOUNTS = [
  { volume: PROFILE_VOLUME, path: '/etc/kube-dlp/profile', configMap: PROFILE_CONFIGMAP },
  { volume: TENANTS_VOLUME, path: '/etc/kube-dlp/tenants', configMap: TENANTS_CONFIGMAP },
] as const;
/**
 * Capabilities that get a process around the capture: NET_ADMIN rewrites the
 * pod's iptables rules, NET_RAW forges packets, SYS_ADMIN may setns() into a
 * network namespace that is not captured (the node's, with hostPID),
 * SYS_PTRACE drives the proxy itself where the pod shares one PID namespace,
 * SYS_MODULE and BPF change what the kernel does with the packets.
 */
const CAPTURE_BREAKING = ['NET_ADMIN', 'NET_RAW', 'SYS_ADMIN', 'SYS_PTRACE', 'SYS_MODULE', 'BPF'] as const;
export const FORBIDDEN_CAPABILITIES = ['ALL', ...CAPTURE_BREAKING, ...CAPTURE_BREAKING.map((c) => `CAP_${c}` as const)] as const;
/**
 * A capability name as the runtimes read it: containerd and CRI-O upper-case
 * it with Go's strings.ToUpper (net_admin, Net_Raw and all grant what
 * NET_ADMIN, NET_RAW and ALL do), which maps every ASCII letter and, of all
 * other characters, only U+0131 (dotless i) to I and U+017F (long s) to S.
 * The CEL twin does the same with upperAscii() and the two replacements.
 */
export const runtimeCapabilityName = (cap: string): string =>
  cap.replace(/[a-z]/g, (c) => c.toUpperCase()).replaceAll('\u0131', 'I').replaceAll('\u017f', 'S');
const MIRROR_ANNOTATION = 'kubernetes.io/config.mirror';

/** What the TypeScript side of a rule sees: the pod as it would be admitted and its namespace as cached. */
export interface PodFacts {
  pod: Pod;
  namespace: { name: string; labels: Readonly<Record<string, string>>; annotations: Readonly<Record<string, string>> };
  /** The requesting user: only a node may create a mirror pod without the sidecar. */
  username: string;
}

export interface PodRule {
  id: string;
  /** Must hold (true) for the pod to be admitted. */
  expression(id: SidecarIdentity): string;
  /** CEL string expression: the refusal message. */
  messageExpression(id: SidecarIdentity): string;
  /** The same rule in TypeScript: the refusal message, or undefined when it holds. */
  check(facts: PodFacts, id: SidecarIdentity): string | undefined;
}

const q = (s: string) => JSON.stringify(s);
const celList = (xs: readonly string[]) => `[${xs.map(q).join(', ')}]`;

/** The policy's variables, in order (later ones use earlier ones). */
export function policyVariables(): { name: string; expression: string }[] {
  const labels = 'object.metadata.labels';
  const annotations = 'object.metadata.annotations';
  const nsLabels = 'namespaceObject.metadata.labels';
  const nsAnnotations = 'namespaceObject.metadata.annotations';
  return [
    {
      name: 'optedOut',
      expression:
        `(has(${annotations}) && ${q(ANNOTATION_INJECT)} in ${annotations} && ${annotations}[${q(ANNOTATION_INJECT)}] == ${q(INJECT_DISABLED)}) || ` +
        `(has(${labels}) && ${q(ANNOTATION_INJECT)} in ${labels} && ${labels}[${q(ANNOTATION_INJECT)}] == ${q(INJECT_DISABLED)})`,
    },
    {
      name: 'exemption',
      expression: `has(${labels}) && ${q(LABEL_EXEMPTION)} in ${labels} ? ${labels}[${q(LABEL_EXEMPTION)}] : ""`,
    },
    {
      name: 'exempt',
      expression:
        `variables.optedOut && variables.exemption != "" && has(${nsAnnotations}) && ` +
        `(${q(EXEMPTION_ANNOTATION_PREFIX)} + variables.exemption) in ${nsAnnotations}`,
    },
    {
      // Absent counts as protect: only the operator's mirror of a Monitor profile relaxes the opt-out.
      name: 'protect',
      expression: `!(has(${nsLabels}) && ${q(LABEL_ENFORCEMENT)} in ${nsLabels} && ${nsLabels}[${q(LABEL_ENFORCEMENT)}] == ${q(ENFORCEMENT_MONITOR)})`,
    },
    {
      // Anyone may write the mirror annotation; only a kubelet creates real mirror pods.
      name: 'mirror',
      expression: `has(${annotations}) && ${q(MIRROR_ANNOTATION)} in ${annotations} && request.userInfo.username.startsWith("system:node:")`,
    },
    {
      name: 'sidecarRequired',
      expression: '!variables.mirror && !variables.exempt && (variables.protect || !variables.optedOut)',
    },
    {
      name: 'containers',
      expression: 'object.spec.containers + (has(object.spec.initContainers) ? object.spec.initContainers : [])',
    },
    { name: 'proxies', expression: `variables.containers.filter(c, c.name == ${q(PROXY_CONTAINER)})` },
    {
      name: 'apps',
      expression: `variables.containers.filter(c, c.name != ${q(PROXY_CONTAINER)} && c.name != ${q(INIT_IPTABLES_CONTAINER)})`,
    },
    {
      name: 'ephemeral',
      expression: 'has(object.spec.ephemeralContainers) ? object.spec.ephemeralContainers : []',
    },
    {
      name: 'podUid',
      expression: 'has(object.spec.securityContext) && has(object.spec.securityContext.runAsUser) ? object.spec.securityContext.runAsUser : -1',
    },
    {
      // The uid the (first) sidecar runs as, drawn by the webhook for this pod;
      // -2 when there is none, which no container's uid (or podUid's -1) equals.
      name: 'proxyUid',
      expression:
        'variables.proxies.size() > 0 && has(variables.proxies[0].securityContext) && has(variables.proxies[0].securityContext.runAsUser) ? ' +
        'variables.proxies[0].securityContext.runAsUser : -2',
    },
    { name: 'captured', expression: 'variables.sidecarRequired || variables.proxies.size() > 0' },
  ];
}

// ---- the TypeScript twins of the variables ----

export function isOptedOut(pod: Pod): boolean {
  return pod.metadata.annotations?.[ANNOTATION_INJECT] === INJECT_DISABLED || pod.metadata.labels?.[ANNOTATION_INJECT] === INJECT_DISABLED;
}

export function claimedExemption(pod: Pod): string {
  return pod.metadata.labels?.[LABEL_EXEMPTION] ?? '';
}

export function grantedExemption(facts: PodFacts): { name: string; reason: string } | undefined {
  const name = claimedExemption(facts.pod);
  if (!isOptedOut(facts.pod) || name === '') return undefined;
  const reason = facts.namespace.annotations[`${EXEMPTION_ANNOTATION_PREFIX}${name}`];
  return reason === undefined ? undefined : { name, reason };
}

export function isProtect(namespace: PodFacts['namespace']): boolean {
  return namespace.labels[LABEL_ENFORCEMENT] !== ENFORCEMENT_MONITOR;
}

function isMirror(facts: PodFacts): boolean {
  return facts.pod.metadata.annotations?.[MIRROR_ANNOTATION] !== undefined && facts.username.startsWith('system:node:');
}

export function sidecarRequired(facts: PodFacts): boolean {
  return !isMirror(facts) && grantedExemption(facts) === undefined && (isProtect(facts.namespace) || !isOptedOut(facts.pod));
}

const allContainers = (pod: Pod): Container[] => [...pod.spec.containers, ...(pod.spec.initContainers ?? [])];
const proxiesOf = (pod: Pod) => allContainers(pod).filter((c) => c.name === PROXY_CONTAINER);
const appsOf = (pod: Pod) => allContainers(pod).filter((c) => c.name !== PROXY_CONTAINER && c.name !== INIT_IPTABLES_CONTAINER);
const ephemeralOf = (pod: Pod) => ((pod.spec as { ephemeralContainers?: Container[] }).ephemeralContainers ?? []);
const captured = (facts: PodFacts) => sidecarRequired(facts) || proxiesOf(facts.pod).length > 0;

interface SecurityContext {
  runAsUser?: number;
  privileged?: boolean;
  capabilities?: { add?: string[] };
}
const sc = (c: Container) => (c.securityContext ?? {}) as SecurityContext;
const podUid = (pod: Pod) => ((pod.spec.securityContext ?? {}) as SecurityContext).runAsUser ?? -1;
/** The twin of variables.proxyUid. */
const proxyUidOf = (pod: Pod): number => {
  const uid = proxiesOf(pod).map((c) => sc(c).runAsUser)[0];
  return Number.isInteger(uid) ? uid! : -2;
};
const sameList = (a: unknown, b: readonly string[]) => Array.isArray(a) && a.length === b.length && a.every((x, i) => x === b[i]);

function genuineProxy(c: Container, pod: Pod, id: SidecarIdentity): boolean {
  const args = c.args as string[] | undefined;
  const mounts = (c.volumeMounts ?? []) as { name?: string; mountPath?: string }[];
  const volumes = (pod.spec.volumes ?? []) as { name: string; configMap?: { name?: string } }[];
  return (
    c.image === id.image &&
    sameList(c.command, id.command) &&
    Array.isArray(args) &&
    args[0] === 'proxy' &&
    args.includes(PROXY_PROFILE_FLAG) &&
    args.includes(PROXY_TENANTS_FLAG) &&
    // A second --profile (or --tenant-directory) would win over ours.
    args.filter((a) => a.startsWith('--profile')).length === 1 &&
    args.filter((a) => a.startsWith('--tenant-directory')).length === 1 &&
    // The uid the webhook drew (proxy-uid.ts): in its range, never root or an
    // image's conventional user even when the pod was written by hand, and the
    // one the init container exempts (genuineInit).
    sc(c).runAsUser === proxyUidOf(pod) &&
    inProxyUidRange(sc(c).runAsUser) &&
    PROXY_MOUNTS.every(
      (m) =>
        mounts.some((x) => x.name === m.volume && x.mountPath === m.path) &&
        volumes.some((v) => v.name === m.volume && v.configMap?.name === m.configMap),
    )
  );
}

/**
 * Exclusions on the init container are exactly the pod's annotations (which
 * the webhook checked against the profile), spaces removed as the webhook
 * renders them: an exclusion written into the container by hand is a bypass.
 */
const EXCLUSION_FLAGS = [
  ['--exclude-ports', ANNOTATION_EXCLUDE_OUTBOUND_PORTS],
  ['--exclude-cidrs', ANNOTATION_EXCLUDE_OUTBOUND_CIDRS],
] as const;
/**
 * Every other argument the init container may have, besides `--proxy-uid=`
 * and the exclusions: what the template renders, and the choices that still
 * capture everything. Anything else is refused, as each could open a hole
 * (`--proxy-gid` exempts a group of the author's choosing, `--dry-run` and
 * `--remove` install nothing, `--ipv6=off` leaves IPv6 egress alone,
 * `--inbound` and another `--proxy-port` change what the proxy receives).
 */
const INIT_FIXED_ARGS = [
  'init-iptables',
  `--proxy-port=${PROXY_PORT}`,
  `--admin-port=${PROXY_ADMIN_PORT}`,
  '--ipv6=auto',
  '--ipv6=on',
  '--iptables=default',
  '--iptables=nft',
  '--iptables=legacy',
] as const;
const PROXY_UID_FLAG = '--proxy-uid=';

function genuineInit(c: Container, pod: Pod, id: SidecarIdentity): boolean {
  const args = c.args as string[] | undefined;
  const annotations = pod.metadata.annotations ?? {};
  return (
    c.image === id.image &&
    sameList(c.command, id.command) &&
    Array.isArray(args) &&
    args[0] === 'init-iptables' &&
    // The sidecar's uid: the one exempt from capture is the one the proxy runs as.
    args.includes(`${PROXY_UID_FLAG}${proxyUidOf(pod)}`) &&
    args.filter((a) => a.startsWith('--proxy-uid')).length === 1 &&
    args.every(
      (a) =>
        (INIT_FIXED_ARGS as readonly string[]).includes(a) ||
        a.startsWith(PROXY_UID_FLAG) ||
        EXCLUSION_FLAGS.some(([flag]) => a.startsWith(`${flag}=`)),
    ) &&
    EXCLUSION_FLAGS.every(([flag, key]) =>
      args.every((a) => !a.startsWith(flag) || (annotations[key] !== undefined && a === `${flag}=${annotations[key]!.replaceAll(' ', '')}`)),
    )
  );
}

const runsAsProxy = (c: Container, pod: Pod) => (sc(c).runAsUser ?? podUid(pod)) === proxyUidOf(pod);
const mayRewriteCapture = (c: Container) =>
  sc(c).privileged === true ||
  (sc(c).capabilities?.add ?? []).some((cap) => typeof cap === 'string' && (FORBIDDEN_CAPABILITIES as readonly string[]).includes(runtimeCapabilityName(cap)));

// ---- the CEL twins of the container predicates ----

const celGenuineProxy = (id: SidecarIdentity) =>
  `has(c.image) && c.image == ${q(id.image)} && has(c.command) && c.command == ${celList(id.command)} && ` +
  `has(c.args) && size(c.args) > 0 && c.args[0] == "proxy" && ${q(PROXY_PROFILE_FLAG)} in c.args && ${q(PROXY_TENANTS_FLAG)} in c.args && ` +
  `c.args.filter(a, a.startsWith("--profile")).size() == 1 && c.args.filter(a, a.startsWith("--tenant-directory")).size() == 1 && ` +
  `has(c.securityContext) && has(c.securityContext.runAsUser) && c.securityContext.runAsUser == variables.proxyUid && ` +
  `c.securityContext.runAsUser >= ${PROXY_UID_MIN} && c.securityContext.runAsUser <= ${PROXY_UID_MAX} && has(c.volumeMounts) && ` +
  PROXY_MOUNTS.map(
    (m) =>
      `c.volumeMounts.exists(x, x.name == ${q(m.volume)} && x.mountPath == ${q(m.path)}) && has(object.spec.volumes) && ` +
      `object.spec.volumes.exists(v, v.name == ${q(m.volume)} && has(v.configMap) && has(v.configMap.name) && v.configMap.name == ${q(m.configMap)})`,
  ).join(' && ');
const celGenuineInit = (id: SidecarIdentity) =>
  `has(c.image) && c.image == ${q(id.image)} && has(c.command) && c.command == ${celList(id.command)} && ` +
  `has(c.args) && size(c.args) > 0 && c.args[0] == "init-iptables" && (${q(PROXY_UID_FLAG)} + string(variables.proxyUid)) in c.args && ` +
  `c.args.filter(a, a.startsWith("--proxy-uid")).size() == 1 && ` +
  `c.args.all(a, a in ${celList(INIT_FIXED_ARGS)} || a.startsWith(${q(PROXY_UID_FLAG)}) || ` +
  EXCLUSION_FLAGS.map(([flag]) => `a.startsWith(${q(`${flag}=`)})`).join(' || ') +
  ') && ' +
  EXCLUSION_FLAGS.map(
    ([flag, key]) =>
      `c.args.all(a, !a.startsWith(${q(flag)}) || (has(object.metadata.annotations) && ${q(key)} in object.metadata.annotations && ` +
      `a == ${q(`${flag}=`)} + object.metadata.annotations[${q(key)}].replace(" ", "")))`,
  ).join(' && ');
const celRunsAsProxy =
  '(has(c.securityContext) && has(c.securityContext.runAsUser) ? c.securityContext.runAsUser : variables.podUid) == variables.proxyUid';
const celMayRewriteCapture =
  'has(c.securityContext) && ((has(c.securityContext.privileged) && c.securityContext.privileged) || ' +
  `(has(c.securityContext.capabilities) && has(c.securityContext.capabilities.add) && ` +
  `c.securityContext.capabilities.add.exists(x, x.upperAscii().replace("\\u0131", "I").replace("\\u017f", "S") in ${celList(FORBIDDEN_CAPABILITIES)})))`;

const NS = 'namespaceObject.metadata.name';
const names = (cs: Container[]) => cs.map((c) => c.name).join(', ');

// The messages: each says what is wrong and what to change. CEL builds the
// same text from the same parts, so the two sides cannot drift apart unseen.
const hostNetworkText = (ns: string) =>
  `kube-dlp: namespace ${ns} captures pod egress, and a hostNetwork pod's egress bypasses the sidecar: remove spec.hostNetwork, or opt the pod out with an exemption granted in the profile's spec.exemptions`;
const OPT_OUT_HEAD = 'kube-dlp: namespace ';
const OPT_OUT_MODE = ' is in Protect mode, where a pod cannot opt itself out with kubedlp.io/inject: disabled';
const OPT_OUT_CLAIM = [' (kubedlp.io/exemption "', '" is not granted here)'] as const;
const OPT_OUT_FIX = ": remove the opt-out, or ask for an exemption in the profile's spec.exemptions and label the pod kubedlp.io/exemption: NAME";
const optOutText = (ns: string, exemption: string) =>
  OPT_OUT_HEAD + ns + OPT_OUT_MODE + (exemption === '' ? '' : OPT_OUT_CLAIM[0] + exemption + OPT_OUT_CLAIM[1]) + OPT_OUT_FIX;
const missingText = (ns: string) =>
  `kube-dlp: pod has no kube-dlp sidecar (container ${PROXY_CONTAINER}) and namespace ${ns} requires one: create the pod while the kube-dlp injection webhook is serving (it adds the sidecar), and do not remove it`;
const forgedProxyText = (id: SidecarIdentity) =>
  `kube-dlp: container ${PROXY_CONTAINER} is not the kube-dlp sidecar (it must run image ${id.image}, command ${id.command.join(' ')} proxy ` +
  `as the uid the webhook chose for the pod, between ${PROXY_UID_MIN} and ${PROXY_UID_MAX}, with the ${PROFILE_CONFIGMAP} and ${TENANTS_CONFIGMAP} ConfigMaps mounted): ` +
  'remove that container and the kubedlp.io/sidecar-status annotation, and the webhook injects the real one';
const forgedInitText = (id: SidecarIdentity) =>
  `kube-dlp: container ${INIT_IPTABLES_CONTAINER} is not kube-dlp's capture init container (it must run image ${id.image}, command ${id.command.join(' ')} init-iptables ` +
  `with --proxy-uid= the ${PROXY_CONTAINER} container's runAsUser, excluding only what the pod's kubedlp.io/exclude-outbound-* annotations say, ` +
  `and no flags but ${INIT_FIXED_ARGS.slice(1).join(', ')}): remove it, and the webhook injects the real one`;
const uidText = (list: string, field: string, uid: string) =>
  `kube-dlp: ${field} ${list} run(s) as uid ${uid}, the proxy's uid, whose traffic is never captured: set securityContext.runAsUser (of the container or the pod) to another uid`;
const capsText = (list: string, field: string) =>
  `kube-dlp: ${field} ${list} add(s) NET_ADMIN or NET_RAW (or SYS_ADMIN, SYS_PTRACE, SYS_MODULE, BPF, or run privileged), which would let them rewrite or get around the capture rules: remove them from securityContext.capabilities.add and drop privileged`;

export function podRules(): PodRule[] {
  const rules: PodRule[] = [
    {
      id: 'host-network',
      expression: () => '!variables.sidecarRequired || !has(object.spec.hostNetwork) || !object.spec.hostNetwork',
      messageExpression: () => celConcat(hostNetworkText, NS),
      check: (f) => (sidecarRequired(f) && f.pod.spec.hostNetwork === true ? hostNetworkText(f.namespace.name) : undefined),
    },
    {
      id: 'opt-out-not-exempt',
      expression: () => '!(variables.optedOut && variables.protect && !variables.exempt && !variables.mirror)',
      messageExpression: () =>
        `${q(OPT_OUT_HEAD)} + ${NS} + ${q(OPT_OUT_MODE)} + ` +
        `(variables.exemption == "" ? "" : ${q(OPT_OUT_CLAIM[0])} + variables.exemption + ${q(OPT_OUT_CLAIM[1])}) + ${q(OPT_OUT_FIX)}`,
      check: (f) =>
        isOptedOut(f.pod) && isProtect(f.namespace) && grantedExemption(f) === undefined && !isMirror(f)
          ? optOutText(f.namespace.name, claimedExemption(f.pod))
          : undefined,
    },
    {
      id: 'sidecar-missing',
      expression: () => '!variables.sidecarRequired || variables.optedOut || variables.proxies.size() == 1',
      messageExpression: () => celConcat(missingText, NS),
      check: (f) => (sidecarRequired(f) && !isOptedOut(f.pod) && proxiesOf(f.pod).length !== 1 ? missingText(f.namespace.name) : undefined),
    },
    {
      id: 'sidecar-forged',
      expression: (id) => `variables.proxies.all(c, ${celGenuineProxy(id)})`,
      messageExpression: (id) => q(forgedProxyText(id)),
      check: (f, id) => (proxiesOf(f.pod).every((c) => genuineProxy(c, f.pod, id)) ? undefined : forgedProxyText(id)),
    },
    {
      id: 'init-forged',
      expression: (id) => `variables.containers.filter(c, c.name == ${q(INIT_IPTABLES_CONTAINER)}).all(c, ${celGenuineInit(id)})`,
      messageExpression: (id) => q(forgedInitText(id)),
      check: (f, id) =>
        allContainers(f.pod)
          .filter((c) => c.name === INIT_IPTABLES_CONTAINER)
          .every((c) => genuineInit(c, f.pod, id))
          ? undefined
          : forgedInitText(id),
    },
  ];
  // Regular and init containers, then ephemeral ones (kubectl debug): CEL
  // lists of the two types cannot be concatenated, so each gets its rule.
  for (const [list, field, of] of [
    ['variables.apps', 'container(s)', appsOf],
    ['variables.ephemeral', 'ephemeral container(s)', ephemeralOf],
  ] as const) {
    const suffix = list === 'variables.apps' ? '' : '-ephemeral';
    rules.push(
      {
        id: `proxy-uid${suffix}`,
        expression: () => `!variables.captured || ${list}.all(c, !(${celRunsAsProxy}))`,
        messageExpression: () =>
          celConcat((l, uid) => uidText(l, field, uid), `${list}.filter(c, ${celRunsAsProxy}).map(c, c.name).join(", ")`, 'string(variables.proxyUid)'),
        check: (f) => {
          const bad = of(f.pod).filter((c) => runsAsProxy(c, f.pod));
          return captured(f) && bad.length > 0 ? uidText(names(bad), field, String(proxyUidOf(f.pod))) : undefined;
        },
      },
      {
        id: `net-admin${suffix}`,
        expression: () => `!variables.captured || ${list}.all(c, !(${celMayRewriteCapture}))`,
        messageExpression: () => celConcat((l) => capsText(l, field), `${list}.filter(c, ${celMayRewriteCapture}).map(c, c.name).join(", ")`),
        check: (f) => {
          const bad = of(f.pod).filter(mayRewriteCapture);
          return captured(f) && bad.length > 0 ? capsText(names(bad), field) : undefined;
        },
      },
    );
  }
  return rules;
}

/** A CEL expression building `text(x, y, ...)` with `x, y, ...` CEL string expressions: the text's parts around the holes become literals. */
function celConcat(text: (...holes: string[]) => string, ...holes: string[]): string {
  const marks = holes.map((_, i) => String.fromCharCode(i + 1));
  const filled = text(...marks);
  let out = '';
  let rest = filled;
  holes.forEach((hole, i) => {
    const [before, after] = rest.split(marks[i]!) as [string, string];
    out += `${q(before)} + ${hole} + `;
    rest = after;
  });
  return out + q(rest);
}

/** Every rule the pod breaks, in table order (the webhook reports the first; the API server may report any). */
export function podViolations(facts: PodFacts, id: SidecarIdentity): { id: string; message: string }[] {
  const out: { id: string; message: string }[] = [];
  for (const rule of podRules()) {
    const message = rule.check(facts, id);
    if (message !== undefined) out.push({ id: rule.id, message });
  }
  return out;
}
