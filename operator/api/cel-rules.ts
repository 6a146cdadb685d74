// Cross-field rules of the SecurityProfile spec as CEL
// `x-kubernetes-validations`, so the API server rejects a bad profile at
// `kubectl apply` with a message naming the field. Each rule mirrors a check
// of proxy/profile/validate.ts (semanticIssues), which stays the complete
// list: the sidecar and the CLI never see the CRD.
//
// The API server also evaluates the rules on each `default` (e.g. `spec:
// {}`) before nested defaults are applied, so rules guard with has() even for
// fields that every stored object has.
//
// CEL rules are costed before the CRD is accepted; a rule over a list of
// lists is quadratic, so the list and its strings need upper bounds. Bounds
// the TypeBox schema does not carry yet are listed in CRD_BOUNDS and added to
// the CRD only (a bound the schema gains later wins over the entry here).

/** Where in the spec schema: property names, with '[]' for "each list item". */
export type SchemaPath = readonly string[];

export interface CelRule {
  at: SchemaPath;
  rule: string;
  message: string;
  /** Relative JSONPath of the field the message is about (shown in the apiserver's error). */
  fieldPath?: string;
  reason?: 'FieldValueInvalid' | 'FieldValueForbidden' | 'FieldValueRequired';
}

export interface SchemaBound {
  at: SchemaPath;
  maxItems?: number;
  maxLength?: number;
}

/** The effective id of a custom detector, as validate.ts's effectiveCustomId computes it. */
const effectiveId = (v: string) => `(${v}.id.startsWith('custom.') ? ${v}.id : 'custom.' + ${v}.id)`;

export const CEL_RULES: readonly CelRule[] = [
  {
    at: ['tls', 'upstreamCA'],
    rule: 'has(self.pem) != has(self.configMapRef)',
    message: 'give exactly one of pem or configMapRef',
    reason: 'FieldValueInvalid',
  },
  {
    at: [],
    rule:
      "!has(self.mode) || self.mode != 'Protect' || !has(self.egress) || !has(self.egress.default) || " +
      "self.egress.default != 'Deny' || (has(self.egress.allow) && size(self.egress.allow) > 0)",
    message: 'Protect mode with egress.default Deny needs at least one egress.allow rule (or it blocks all egress)',
    fieldPath: '.egress.allow',
    reason: 'FieldValueRequired',
  },
  {
    at: ['detectors', 'custom'],
    rule: `self.all(c, self.exists_one(d, ${effectiveId('d')} == ${effectiveId('c')}))`,
    // No FieldValueDuplicate reason: the API server would print "Duplicate
    // value" and drop this message.
    message: 'custom detector ids must be unique ("x" and "custom.x" are the same detector)',
  },
  {
    at: ['inspection'],
    rule: '!has(self.holdBackBytes) || !has(self.maxBodyBytes) || self.holdBackBytes <= self.maxBodyBytes',
    message: 'holdBackBytes must not exceed maxBodyBytes',
    fieldPath: '.holdBackBytes',
  },
  ...(['allow', 'deny'] as const).flatMap((list): CelRule[] => [
    {
      at: ['egress', list, '[]'],
      rule: '!(has(self.host) && has(self.cidr))',
      message: 'host and cidr are mutually exclusive; use two rules',
    },
    {
      at: ['egress', list, '[]'],
      rule: 'has(self.host) || has(self.cidr) || has(self.ports)',
      message: 'a rule needs at least one of host, cidr or ports',
      reason: 'FieldValueRequired',
    },
  ]),
  {
    at: ['egress', 'deny', '[]'],
    rule: '!has(self.allowUninspectable)',
    message: 'allowUninspectable is only meaningful on allow rules',
    fieldPath: '.allowUninspectable',
    reason: 'FieldValueForbidden',
  },
  {
    at: ['tenancy', 'exceptions', '[]'],
    rule: 'has(self.tenant) != has(self.namespace)',
    message: 'set exactly one of tenant or namespace',
  },
  {
    at: ['tenancy', 'sharedNamespaces', '[]'],
    rule: 'has(self.matchLabels) && size(self.matchLabels) > 0',
    message: 'a shared-namespace selector needs at least one label',
    fieldPath: '.matchLabels',
    reason: 'FieldValueRequired',
  },
];

export const CRD_BOUNDS: readonly SchemaBound[] = [
  // The id pattern already limits ids to 63 characters; the cost estimator
  // does not read patterns.
  { at: ['detectors', 'custom', '[]', 'id'], maxLength: 63 },
  { at: ['detectors', 'custom'], maxItems: 256 },
];
