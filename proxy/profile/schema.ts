// The SecurityProfile spec, defined once with TypeBox. The same definition
// gives the TypeScript type (Static<>), runtime validation of profile files,
// and (via the operator) the CRD's openAPIV3Schema. That last use constrains
// the shape to what Kubernetes accepts as a *structural* schema:
// - no $ref, no anyOf/oneOf of full object schemas, no `const`
//   (so string enums are a custom kind emitting plain `{type: string, enum}`);
// - no `additionalProperties: false` next to `properties` (unknown fields are
//   pruned by the API server; locally we report them in validate.ts instead);
// - no `uniqueItems` (sets use `x-kubernetes-list-type: set`, checked locally);
// - int-or-string only as `anyOf: [{type: integer}, {type: string}]` with
//   `x-kubernetes-int-or-string: true`.
// Every field has a description: they become `kubectl explain` docs.
import { Kind, Type, TypeRegistry, type Static, type TUnsafe } from '@sinclair/typebox';
import { API_VERSION, MANIFEST_KINDS, RENDERED_KIND } from './document-kinds';

const STRING_ENUM_KIND = 'KdlpStringEnum';

// A registered kind lets TypeBox's checker validate the enum while the JSON
// form stays `{type: string, enum: [...]}`; Kind is a symbol, so it does not
// leak into the serialised CRD schema.
if (!TypeRegistry.Has(STRING_ENUM_KIND)) {
  TypeRegistry.Set(STRING_ENUM_KIND, (schema: { enum: readonly string[] }, value: unknown) =>
    typeof value === 'string' && schema.enum.includes(value),
  );
}

function StringEnum<T extends readonly string[]>(
  values: [...T],
  options: { description: string; default?: T[number] },
): TUnsafe<T[number]> {
  // An explicit `default: undefined` key would still count as a default for TypeBox.
  const { default: dflt, description } = options;
  const schema = { [Kind]: STRING_ENUM_KIND, type: 'string', enum: values, description };
  return Type.Unsafe<T[number]>(dflt === undefined ? schema : { ...schema, default: dflt });
}

const STRING_MAP_KIND = 'KdlpStringMap';

if (!TypeRegistry.Has(STRING_MAP_KIND)) {
  TypeRegistry.Set(
    STRING_MAP_KIND,
    (_schema: unknown, value: unknown) =>
      value !== null && typeof value === 'object' && !Array.isArray(value) && Object.values(value).every((v) => typeof v === 'string'),
  );
}

/**
 * A string-to-string map (label selectors' matchLabels). A structural CRD
 * schema takes it only as `additionalProperties`, never TypeBox's
 * patternProperties, so it is a custom kind like StringEnum.
 */
function StringMap(options: { description: string }): TUnsafe<Record<string, string>> {
  return Type.Unsafe<Record<string, string>>({ [Kind]: STRING_MAP_KIND, type: 'object', additionalProperties: { type: 'string' }, ...options });
}

/** Schemas built with StringEnum carry their allowed values here; used for error messages. */
export function enumValues(schema: unknown): readonly string[] | undefined {
  const s = schema as { [Kind]?: string; enum?: readonly string[] };
  return s && s[Kind] === STRING_ENUM_KIND ? s.enum : undefined;
}

const SEVERITY_VALUES = ['low', 'medium', 'high', 'critical'] as const;
const ACTION_VALUES = ['monitor', 'block', 'redact'] as const;
const CATEGORY_VALUES = ['pci', 'pii', 'secret', 'custom'] as const;
export const DECODER_VALUES = ['gzip', 'deflate', 'br', 'percent', 'json', 'base64', 'multipart', 'normalize'] as const;

const Severity = (description: string, dflt?: (typeof SEVERITY_VALUES)[number]) =>
  StringEnum([...SEVERITY_VALUES], { description, default: dflt });
const Action = (description: string, dflt?: (typeof ACTION_VALUES)[number]) =>
  StringEnum([...ACTION_VALUES], { description, default: dflt });

// Ports are written as 443 or "8000-8080"; the range check lives in
// validate.ts because the structural int-or-string form admits nothing inside
// the anyOf branches.
const PortSpec = Type.Union([Type.Integer(), Type.String()], {
  'x-kubernetes-int-or-string': true,
  description: 'A port (443) or an inclusive range ("8000-8080"), 1-65535.',
});

export const EgressRuleSchema = Type.Object(
  {
    host: Type.Optional(
      Type.String({
        description:
          'Host name to match, case-insensitive. "example.com" matches exactly that name; ' +
          '"*.example.com" matches its sub-domains only (not example.com itself). Mutually exclusive with cidr.',
      }),
    ),
    cidr: Type.Optional(
      Type.String({
        description:
          'IPv4 or IPv6 network ("10.0.0.0/8", "fd00::/8") or single address; matches destinations ' +
          'given as IP literals (no DNS resolution is done). Mutually exclusive with host.',
      }),
    ),
    ports: Type.Optional(
      Type.Array(PortSpec, {
        description: 'Destination ports this rule applies to; any port when omitted.',
      }),
    ),
    allowUninspectable: Type.Optional(
      Type.Boolean({
        description:
          'Allow rules only: let traffic to this destination through even when the proxy cannot inspect it ' +
          '(CONNECT tunnels, pinned TLS) and egress.uninspectable is Deny.',
      }),
    ),
  },
  { description: 'One egress rule. At least one of host, cidr or ports must be set.' },
);

export const EgressSchema = Type.Object(
  {
    default: StringEnum(['Allow', 'Deny'], {
      description: 'Decision for destinations that match no allow or deny rule.',
      default: 'Allow',
    }),
    allow: Type.Array(EgressRuleSchema, {
      description: 'Destinations allowed (meaningful when default is Deny, or for allowUninspectable exceptions).',
      default: [],
    }),
    deny: Type.Array(EgressRuleSchema, {
      description: 'Destinations always denied: a matching deny rule beats any allow rule.',
      default: [],
    }),
    uninspectable: Type.Optional(
      StringEnum(['Allow', 'Deny'], {
        description:
          'Decision for egress the proxy cannot inspect (CONNECT tunnels, oversized or undecodable bodies). ' +
          'When unset: Allow in Monitor mode, Deny in Protect mode.',
      }),
    ),
    websocket: Type.Optional(
      StringEnum(['Inspect', 'Deny'], {
        description:
          'WebSocket upgrades: Inspect (when unset) forwards the upgrade and scans every client-to-server message with ' +
          "the profile's detectors (a blocked message closes the connection with 1008); Deny refuses the upgrade with 403.",
      }),
    ),
  },
  { description: 'Which destinations workloads may reach through the proxy.', default: {} },
);

export const CustomDetectorSchema = Type.Object(
  {
    id: Type.String({
      pattern: '^[a-z0-9][a-z0-9._-]{0,62}$',
      description:
        'Detector id, lowercase letters, digits, ".", "_" or "-". Findings report it as "custom.<id>" ' +
        '(an id already starting with "custom." is kept as is). Must be unique.',
    }),
    pattern: Type.String({
      minLength: 1,
      description:
        'Regular expression in the subset both engines accept: no backreferences, no lookaround, ' +
        'no inline flags, bounded repeats only (use {n,m}).',
    }),
    // Defaults are spelled out here rather than left to the engine so the
    // effective values are visible in the applied spec.
    severity: Severity('Severity of findings.', 'high'),
    action: Action('Action taken in Protect mode unless spec.actions overrides it for this severity.', 'block'),
    category: StringEnum([...CATEGORY_VALUES], {
      description: 'Category the findings are reported under; enable/disable by category applies.',
      default: 'custom',
    }),
    caseInsensitive: Type.Boolean({ description: 'Match the pattern case-insensitively.', default: false }),
    validator: Type.Optional(
      Type.String({ description: 'Name of a library validator run on each candidate (e.g. "luhn").' }),
    ),
    minEntropy: Type.Optional(
      Type.Number({
        minimum: 0,
        maximum: 8,
        description: 'Minimum Shannon entropy (bits per character) a match must have, to skip placeholders.',
      }),
    ),
    contextWords: Type.Optional(
      Type.Array(Type.String(), { description: 'Words near a match that raise its confidence.' }),
    ),
    valueGroup: Type.Optional(
      Type.Integer({
        minimum: 1,
        maximum: 9,
        description: 'Capture group (1-based) holding the sensitive value; the rest of the match is context.',
      }),
    ),
    allowlist: Type.Optional(
      Type.Object(
        {
          regexes: Type.Optional(
            Type.Array(Type.String(), { description: 'A value matching any of these (RE2 syntax, unanchored) is not a finding.' }),
          ),
          stopwords: Type.Optional(
            Type.Array(Type.String(), { description: 'A value containing any of these words (case-insensitive) is not a finding.' }),
          ),
          paths: Type.Optional(
            Type.Array(Type.String(), {
              description: 'File paths (RE2) whose findings of this detector `kube-dlp scan` drops; the proxy has no file paths.',
            }),
          ),
        },
        { description: 'Values that look like a finding but are known not to be one (gitleaks allowlists).' },
      ),
    ),
  },
  { description: 'A detector defined by the profile.' },
);

export const DetectorOverrideSchema = Type.Object(
  {
    id: Type.String({
      minLength: 1,
      description: 'Library detector id (e.g. pii.email) or custom detector id.',
    }),
    action: Action('Action for this detector in Protect mode.'),
  },
  { description: "Override of one detector's action." },
);

export const DetectorsSchema = Type.Object(
  {
    enable: Type.Optional(
      Type.Array(Type.String(), {
        'x-kubernetes-list-type': 'set',
        description:
          'Categories (pci, pii, secret, custom) or detector ids to run. When omitted, every library detector ' +
          'that is not opt-in runs; opt-in detectors (noisy ones) run only when listed by id.',
      }),
    ),
    disable: Type.Array(Type.String(), {
      'x-kubernetes-list-type': 'set',
      description: 'Categories or detector ids not to run; applied after enable.',
      default: [],
    }),
    custom: Type.Array(CustomDetectorSchema, {
      description: 'Detectors defined by this profile, compiled alongside the library.',
      default: [],
    }),
    overrides: Type.Array(DetectorOverrideSchema, {
      'x-kubernetes-list-type': 'map',
      'x-kubernetes-list-map-keys': ['id'],
      description:
        'Per-detector action, e.g. redact emails while other low-severity findings are only monitored. ' +
        'Beats spec.actions, which applies by severity.',
      default: [],
    }),
  },
  { description: 'Which detectors run.', default: {} },
);

export const ActionsSchema = Type.Object(
  {
    low: Type.Optional(Action('Action for low-severity findings.')),
    medium: Type.Optional(Action('Action for medium-severity findings.')),
    high: Type.Optional(Action('Action for high-severity findings.')),
    critical: Type.Optional(Action('Action for critical-severity findings.')),
  },
  {
    description:
      "Per-severity override of each detector's own action. Actions are enforced in Protect mode only; " +
      'Monitor mode records findings and never blocks or redacts.',
  },
);

export const InspectionSchema = Type.Object(
  {
    url: Type.Boolean({ description: 'Scan request URLs (path and query).', default: true }),
    headers: Type.Boolean({ description: 'Scan request headers.', default: true }),
    requestBody: Type.Boolean({ description: 'Scan request bodies.', default: true }),
    responseBody: Type.Boolean({ description: 'Scan response bodies.', default: false }),
    maxBodyBytes: Type.Integer({
      minimum: 0,
      description: 'Bodies larger than this are uninspectable (see egress.uninspectable).',
      default: 10485760,
    }),
    holdBackBytes: Type.Integer({
      minimum: 0,
      description:
        'Bytes of a body buffered before any is forwarded, so a block can still be answered with an error ' +
        'instead of a truncated upload. Must not exceed maxBodyBytes.',
      default: 65536,
    }),
    decoders: Type.Array(StringEnum([...DECODER_VALUES], { description: 'A decoder.' }), {
      'x-kubernetes-list-type': 'set',
      description:
        'Decoded views scanned in addition to the raw bytes. normalize is the text as a reader sees it: full-width ' +
        'digits, zero-width characters, HTML entities, digit runs split by dots, slashes or line breaks, UTF-16.',
      default: [...DECODER_VALUES],
    }),
    maxDecodedBytes: Type.Integer({
      minimum: 0,
      description: 'Upper bound on the bytes produced by decoding one body; beyond it the body is uninspectable.',
      default: 67108864,
    }),
    maxDecompressionRatio: Type.Number({
      minimum: 1,
      description: 'Decompressed-to-compressed size ratio beyond which a body is treated as a decompression bomb.',
      default: 100,
    }),
    maxDecodeDepth: Type.Integer({
      minimum: 1,
      maximum: 8,
      description:
        'Most encodings stacked on one another that are followed (content codings, base64, percent, JSON escapes, ' +
        'compression found inside a view). Content nested deeper is uninspectable (see egress.uninspectable).',
      default: 3,
    }),
  },
  { description: 'What the proxy inspects and the limits that keep inspection bounded.', default: {} },
);

/** Namespace label a platform team sets on shared infrastructure namespaces; the default tenancy.sharedNamespaces selects it. */
export const SHARED_NAMESPACE_LABEL = 'kubedlp.io/shared';

const TenancyExceptionSchema = Type.Object(
  {
    tenant: Type.Optional(Type.String({ minLength: 1, description: 'Tenant always reachable.' })),
    namespace: Type.Optional(Type.String({ minLength: 1, description: 'Namespace always reachable.' })),
  },
  { description: 'A destination exempt from denyCrossTenant. Exactly one of tenant or namespace.' },
);

const NamespaceSelectorSchema = Type.Object(
  {
    matchLabels: StringMap({ description: 'Labels a namespace must all carry, e.g. kubernetes.io/metadata.name: monitoring.' }),
  },
  { description: 'Namespaces selected by their labels.' },
);

const NetworkPolicySchema = Type.Object(
  {
    ingress: Type.Boolean({
      description: 'Admit ingress only from the same tenant, kube-system, the operator and allowIngressFrom.',
      default: true,
    }),
    egress: Type.Boolean({
      description: 'Allow in-cluster egress only to the same tenant, allowEgressTo and DNS; external egress goes to externalCidrs.',
      default: true,
    }),
    allowIngressFrom: Type.Array(NamespaceSelectorSchema, {
      description: 'Other namespaces that may connect in: ingress controllers, monitoring (Prometheus scrapes the sidecar on 15090).',
      default: [],
    }),
    allowEgressTo: Type.Array(NamespaceSelectorSchema, {
      description: 'Other namespaces pods may connect to (shared services).',
      default: [],
    }),
    dns: Type.Boolean({ description: 'Allow DNS (UDP and TCP 53) to kube-system.', default: true }),
    externalCidrs: Type.Array(Type.String({ minLength: 1 }), {
      description: 'Destinations outside the cluster pods may reach (the sidecar then decides what may leave).',
      default: ['0.0.0.0/0', '::/0'],
    }),
    clusterCidrs: Type.Array(Type.String({ minLength: 1 }), {
      description:
        "The cluster's pod and service ranges, carved out of externalCidrs so other tenants cannot be reached by address.",
      default: [],
    }),
  },
  {
    description:
      'Render a NetworkPolicy for each namespace using this profile (none when absent). ' +
      'Enforced only where the cluster network plugin implements NetworkPolicy.',
  },
);

export const TenancySchema = Type.Object(
  {
    networkPolicy: Type.Optional(NetworkPolicySchema),
    denyCrossTenant: Type.Optional(
      Type.Boolean({
        description:
          "Deny in-cluster egress to workloads of another tenant (tenants come from the operator's rendering). " +
          'When unset: true in Protect mode, false in Monitor mode.',
      }),
    ),
    exceptions: Type.Array(TenancyExceptionSchema, {
      description: 'Tenants or namespaces reachable despite denyCrossTenant.',
      default: [],
    }),
    sharedNamespaces: Type.Array(NamespaceSelectorSchema, {
      description:
        'Shared infrastructure (databases, monitoring, a gateway) every workload using this profile may reach despite ' +
        'denyCrossTenant, audited as shared-namespace. The operator resolves the selectors against namespace labels ' +
        "and lists the namespaces it selects in the sidecar's tenant directory. kube-system is always shared. " +
        'A selector needs at least one label (an empty one would share every namespace).',
      default: [{ matchLabels: { [SHARED_NAMESPACE_LABEL]: 'true' } }],
    }),
  },
  { description: 'Isolation between tenants sharing the cluster.', default: {} },
);

const TlsOriginationHostSchema = Type.Object(
  {
    host: Type.String({ minLength: 1, description: 'Exact host name the proxy opens TLS to.' }),
    port: Type.Integer({ minimum: 1, maximum: 65535, description: 'Upstream TLS port.', default: 443 }),
    caBundleFile: Type.Optional(
      Type.String({ description: 'PEM file of CAs trusted for this upstream; the system store when omitted.' }),
    ),
  },
  { description: 'An upstream the workload talks plain HTTP to and the proxy reaches over TLS.' },
);

export const TlsOriginationSchema = Type.Object(
  {
    hosts: Type.Array(TlsOriginationHostSchema, {
      description: 'Upstreams for which the proxy originates TLS, which keeps their traffic inspectable.',
      default: [],
    }),
  },
  { description: 'TLS origination by the proxy.', default: {} },
);

const UpstreamCaSchema = Type.Object(
  {
    pem: Type.Optional(
      Type.String({
        minLength: 1,
        description: 'PEM bundle of CA certificates trusted for upstreams, beside the system roots (private or internal upstreams).',
      }),
    ),
    configMapRef: Type.Optional(
      Type.Object(
        {
          name: Type.String({ minLength: 1, maxLength: 253, description: 'ConfigMap name.' }),
          key: Type.String({ minLength: 1, maxLength: 253, description: 'Key holding the PEM bundle.', default: 'ca.crt' }),
        },
        {
          description:
            "The PEM bundle from a ConfigMap instead: in the profile's namespace (SecurityProfile) or the operator's namespace " +
            '(ClusterSecurityProfile). The operator copies it into the rendered profile as pem.',
        },
      ),
    ),
  },
  { description: 'Extra roots for verifying intercepted upstreams: pem or configMapRef, not both.' },
);

export const TlsSchema = Type.Object(
  {
    intercept: StringEnum(['Enabled', 'Disabled'], {
      description:
        'Enabled: the sidecar terminates TLS of CONNECT tunnels with certificates minted from the tenant CA, verifies the ' +
        'upstream itself and inspects the decrypted requests like plain HTTP. Needs the sidecar started with --intercept-ca-dir.',
      default: 'Disabled',
    }),
    bypass: Type.Array(Type.String(), {
      description:
        'Host names ("pinned.example.com") or sub-domain globs ("*.example.com") passed through without interception, for ' +
        'clients that pin certificates. Their traffic is uninspected: egress.uninspectable and allowUninspectable still apply.',
      default: [],
      'x-kubernetes-list-type': 'set',
    }),
    upstreamCA: Type.Optional(UpstreamCaSchema),
  },
  { description: 'TLS interception (see the README: what clients must trust, what bypass means).', default: {} },
);

const ExemptionSchema = Type.Object(
  {
    name: Type.String({
      minLength: 1,
      maxLength: 63,
      pattern: '^[a-z0-9]([-a-z0-9]*[a-z0-9])?$',
      description: 'Name a pod claims with the label kubedlp.io/exemption (a DNS label).',
    }),
    reason: Type.String({ minLength: 1, maxLength: 256, description: 'Why these pods may run without the sidecar; shown in Events.' }),
  },
  {
    description:
      'Lets pods of the namespaces using this profile opt out of the sidecar in Protect mode: a pod labelled ' +
      'kubedlp.io/inject: disabled and kubedlp.io/exemption: NAME is admitted without it, counted and audited.',
  },
);

export const SecurityProfileSpecSchema = Type.Object(
  {
    mode: StringEnum(['Monitor', 'Protect'], {
      description: 'Monitor records findings and decisions only; Protect enforces actions and egress denies.',
      default: 'Monitor',
    }),
    detectors: DetectorsSchema,
    actions: Type.Optional(ActionsSchema),
    inspection: InspectionSchema,
    egress: EgressSchema,
    tenancy: TenancySchema,
    tlsOrigination: TlsOriginationSchema,
    tls: TlsSchema,
    exemptions: Type.Array(ExemptionSchema, {
      description:
        'Exemptions from the sidecar that pods may claim in Protect mode (in Monitor any pod may opt out). ' +
        'Whoever may edit this profile grants them; the operator mirrors them onto the namespaces it selects.',
      default: [],
      'x-kubernetes-list-type': 'map',
      'x-kubernetes-list-map-keys': ['name'],
    }),
  },
  { description: 'Data-loss-prevention policy for the egress proxy of the selected workloads.', default: {} },
);

export type SecurityProfileSpec = Static<typeof SecurityProfileSpecSchema>;
export type EgressSpec = Static<typeof EgressSchema>;
export type TlsSpec = Static<typeof TlsSchema>;
export type TenancySpec = Static<typeof TenancySchema>;
export type EgressRule = Static<typeof EgressRuleSchema>;
export type CustomDetectorSpec = Static<typeof CustomDetectorSchema>;
export type DetectorOverride = Static<typeof DetectorOverrideSchema>;
export type Mode = SecurityProfileSpec['mode'];

export { API_VERSION, MANIFEST_KINDS, RENDERED_KIND };

/** Envelope of a SecurityProfile / ClusterSecurityProfile manifest (spec validated separately). */
export const ManifestEnvelopeSchema = Type.Object({
  apiVersion: Type.String({ description: 'kubedlp.io/v1alpha1' }),
  kind: StringEnum([...MANIFEST_KINDS], { description: 'SecurityProfile or ClusterSecurityProfile.' }),
  metadata: Type.Object(
    {
      name: Type.String({ minLength: 1, description: 'Profile name.' }),
      namespace: Type.Optional(Type.String({ description: 'Namespace (SecurityProfile only).' })),
    },
    { description: 'Object metadata; other Kubernetes metadata fields are accepted and ignored.' },
  ),
});

/** Envelope of the operator's rendered profile, the file the sidecar actually mounts. */
export const RenderedEnvelopeSchema = Type.Object({
  apiVersion: Type.String({ description: 'kubedlp.io/v1alpha1' }),
  kind: StringEnum([RENDERED_KIND], { description: 'RenderedProfile.' }),
  profile: Type.Object(
    {
      name: Type.String({ minLength: 1, description: 'Name of the profile this was rendered from.' }),
      namespace: Type.Optional(Type.String({ description: 'Namespace of that profile, if namespaced.' })),
      tenant: Type.Optional(Type.String({ description: 'Tenant of the workload the profile is rendered for.' })),
      version: Type.Optional(Type.String({ description: "Operator's version of the rendering (e.g. resourceVersion)." })),
    },
    { description: 'Where the rendered spec came from.' },
  ),
});
