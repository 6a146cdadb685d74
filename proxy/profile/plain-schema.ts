// The sidecar's schema check, without TypeBox. TypeBox builds the schemas
// (schema.ts) and stays the source of truth for the CRD, the operator and the
// error messages; but its 200-module type builder holds ~7 MiB of resident
// memory once loaded (measured alone, after malloc_trim), 2-3 MiB of a
// sidecar's idle RSS with the V8 settings the webhook gives it, paid in every
// pod for a check that runs once per profile load. So the schemas are
// serialized at `npm run generate` into plain-schemas.generated.ts, and this
// module answers the two questions the load path asks of them:
// - does a value conform (TypeBox's Check, for the subset of JSON Schema the
//   generator admits);
// - what is the value with defaults filled in (TypeBox's Value.Default).
// When a value does not conform, validate.ts loads TypeBox after all to say
// why, so messages are unchanged. test/unit/plain-schema.test.ts holds both
// answers equal to TypeBox's on generated values.

/** A schema as the generator writes it: only the keywords below. */
export interface PlainSchema {
  type?: 'object' | 'array' | 'string' | 'integer' | 'number' | 'boolean';
  properties?: Record<string, PlainSchema>;
  required?: string[];
  /** false: no other keys (TypeBox's additionalProperties: false); a schema: every other key's value. */
  additionalProperties?: false | PlainSchema;
  items?: PlainSchema;
  anyOf?: PlainSchema[];
  enum?: string[];
  const?: string | number | boolean;
  pattern?: string;
  minLength?: number;
  maxLength?: number;
  minimum?: number;
  maximum?: number;
  default?: unknown;
}

/** The keywords conforms() and withDefaults() understand; the generator refuses a schema with any other. */
export const PLAIN_SCHEMA_KEYWORDS: ReadonlySet<string> = new Set([
  'type',
  'properties',
  'required',
  'additionalProperties',
  'items',
  'anyOf',
  'enum',
  'const',
  'pattern',
  'minLength',
  'maxLength',
  'minimum',
  'maximum',
  'default',
]);

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

// Patterns are compiled once per schema object, as TypeBox's compiled checks hoist them.
const patterns = new WeakMap<PlainSchema, RegExp>();

function patternOf(schema: PlainSchema & { pattern: string }): RegExp {
  let re = patterns.get(schema);
  if (!re) {
    re = new RegExp(schema.pattern);
    patterns.set(schema, re);
  }
  return re;
}

/** Whether `value` satisfies `schema`, as TypeBox's Check would answer for the schema it was generated from. */
export function conforms(schema: PlainSchema, value: unknown): boolean {
  if (schema.const !== undefined) return value === schema.const;
  if (schema.anyOf) return schema.anyOf.some((branch) => conforms(branch, value));
  switch (schema.type) {
    case 'object':
      return schema.properties ? conformsObject(schema, value) : conformsMap(schema, value);
    case 'array':
      return Array.isArray(value) && (schema.items === undefined || value.every((item) => conforms(schema.items!, item)));
    case 'string':
      if (typeof value !== 'string') return false;
      if (schema.enum) return schema.enum.includes(value);
      if (schema.minLength !== undefined && value.length < schema.minLength) return false;
      if (schema.maxLength !== undefined && value.length > schema.maxLength) return false;
      return schema.pattern === undefined || patternOf(schema as PlainSchema & { pattern: string }).test(value);
    case 'integer':
      return Number.isInteger(value) && inRange(schema, value as number);
    case 'number':
      return Number.isFinite(value) && inRange(schema, value as number);
    case 'boolean':
      return typeof value === 'boolean';
    default:
      return true;
  }
}

function inRange(schema: PlainSchema, n: number): boolean {
  return (schema.minimum === undefined || n >= schema.minimum) && (schema.maximum === undefined || n <= schema.maximum);
}

function conformsObject(schema: PlainSchema, value: unknown): boolean {
  if (!isPlainObject(value)) return false;
  const properties = schema.properties!;
  const required = schema.required ?? [];
  for (const key of Object.keys(properties)) {
    const v = value[key];
    if (v === undefined && !required.includes(key)) continue;
    if (!conforms(properties[key], v)) return false;
  }
  if (schema.additionalProperties === false) return Object.getOwnPropertyNames(value).every((key) => Object.hasOwn(properties, key));
  return true;
}

/** An object schema without properties: a map whose values all satisfy additionalProperties (schema.ts's StringMap). */
function conformsMap(schema: PlainSchema, value: unknown): boolean {
  if (!isPlainObject(value)) return false;
  const values = schema.additionalProperties;
  return values === undefined || values === false ? true : Object.values(value).every((v) => conforms(values, v));
}

/**
 * `value` with missing fields filled from the schema's defaults, as
 * TypeBox's Value.Default does: in place where `value` is an object or
 * list, defaults deep-copied, a default object merged under a given one.
 */
export function withDefaults(schema: PlainSchema, value: unknown): unknown {
  if (schema.anyOf) {
    const defaulted = valueOrDefault(schema, value);
    for (const branch of schema.anyOf) {
      const candidate = withDefaults(branch, structuredClone(defaulted));
      if (conforms(branch, candidate)) return candidate;
    }
    return defaulted;
  }
  if (schema.type === 'array') {
    const defaulted = Array.isArray(value) ? value : valueOrDefault(schema, value);
    if (!Array.isArray(defaulted) || schema.items === undefined) return defaulted;
    for (let i = 0; i < defaulted.length; i++) defaulted[i] = withDefaults(schema.items, defaulted[i]);
    return defaulted;
  }
  if (schema.type === 'object' && schema.properties) {
    const defaulted = valueOrDefault(schema, value);
    if (typeof defaulted !== 'object' || defaulted === null) return defaulted;
    const target = defaulted as Record<string, unknown>;
    for (const [key, property] of Object.entries(schema.properties)) {
      const filled = withDefaults(property, target[key]);
      if (filled !== undefined) target[key] = filled;
    }
    return defaulted;
  }
  return valueOrDefault(schema, value);
}

function valueOrDefault(schema: PlainSchema, value: unknown): unknown {
  const copy = 'default' in schema ? structuredClone(schema.default) : undefined;
  if (value === undefined) return copy;
  if (typeof value === 'object' && value !== null && typeof copy === 'object' && copy !== null) return Object.assign(copy, value);
  return value;
}
