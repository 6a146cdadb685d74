// Validation of a profile spec beyond parsing: schema conformance (the plain
// schemas of plain-schema.ts, with TypeBox's findings as messages),
// unknown fields (which the Kubernetes API server would silently prune, so a
// typo like `egress.alow` must be caught here), and the semantic rules a
// schema cannot express (CIDRs, host globs, port ranges, id uniqueness).
// Every check collects issues instead of throwing, so a user sees every
// problem of a profile at once.
import type { TSchema } from '@sinclair/typebox';
import type { TypeCheck } from '@sinclair/typebox/compiler';
import type { ValueError } from '@sinclair/typebox/errors';
import { CATEGORIES } from '../scan/types';
import { parseCidr, parseHostPattern, parsePortSpec } from '../policy/egress-syntax';
import type { ProfileIssue } from './errors';
import { conforms, type PlainSchema } from './plain-schema';
import * as plainSchemas from './plain-schemas.generated';
import { pemBundleProblem } from '../tls/pem-bundle';

/** A schema documents are checked against, by its name in plain-schemas.generated.ts. */
export type SchemaName = keyof typeof plainSchemas;

/** The plain form of a schema: what conformance and unknown fields are checked with. */
export function plainSchema(name: SchemaName): PlainSchema {
  return plainSchemas[name];
}

/** TypeBox, for the messages of a value that does not conform: loaded only then (see plain-schema.ts). */
interface TypeBoxForMessages {
  check: TypeCheck<TSchema>;
  errorTypes: typeof import('@sinclair/typebox/errors').ValueErrorType;
  enumValues: (schema: unknown) => readonly string[] | undefined;
}

const forMessages = new Map<SchemaName, TypeBoxForMessages>();

function typeBoxFor(name: SchemaName): TypeBoxForMessages {
  let loaded = forMessages.get(name);
  if (!loaded) {
    /* eslint-disable @typescript-eslint/no-require-imports */
    const { TypeCompiler } = require('@sinclair/typebox/compiler') as typeof import('@sinclair/typebox/compiler');
    const { ValueErrorType } = require('@sinclair/typebox/errors') as typeof import('@sinclair/typebox/errors');
    const { PLAIN_SCHEMA_SOURCES } = require('./plain-schema-generator') as typeof import('./plain-schema-generator');
    const { enumValues } = require('./schema') as typeof import('./schema');
    /* eslint-enable @typescript-eslint/no-require-imports */
    loaded = { check: TypeCompiler.Compile(PLAIN_SCHEMA_SOURCES[name]), errorTypes: ValueErrorType, enumValues };
    forMessages.set(name, loaded);
  }
  return loaded;
}

/**
 * TypeBox's findings on a value that does not conform to schema `name`, for
 * messages; TypeBox is loaded on the first call. The profile's issues below
 * and the tenant directory's are worded from these.
 */
export function typeBoxErrors(name: SchemaName, value: unknown): Iterable<ValueError> {
  return typeBoxFor(name).check.Errors(value);
}

/** Every schema violation, one issue per path (the first, most specific one TypeBox reports). */
export function schemaIssues(name: SchemaName, value: unknown, basePath: string): ProfileIssue[] {
  if (conforms(plainSchemas[name], value)) return [];
  const typeBox = typeBoxFor(name);
  const seen = new Set<string>();
  const issues: ProfileIssue[] = [];
  for (const error of typeBoxErrors(name, value)) {
    const path = pointerToPath(value, error.path, basePath);
    if (seen.has(path)) continue;
    seen.add(path);
    issues.push({ path, message: describe(error, typeBox) });
  }
  return issues;
}

/** Friendlier than TypeBox's defaults, and never echoes the offending value. */
function describe(error: ValueError, { errorTypes: ValueErrorType, enumValues }: TypeBoxForMessages): string {
  const s = error.schema as Record<string, unknown>;
  switch (error.type) {
    case ValueErrorType.ObjectRequiredProperty:
      return 'is required';
    case ValueErrorType.Kind: {
      const values = enumValues(error.schema);
      return values ? `must be one of: ${values.join(', ')}` : error.message;
    }
    case ValueErrorType.String:
      return 'must be a string';
    case ValueErrorType.Integer:
      return 'must be an integer';
    case ValueErrorType.Number:
      return 'must be a number';
    case ValueErrorType.Boolean:
      return 'must be true or false';
    case ValueErrorType.Array:
      return 'must be a list';
    case ValueErrorType.Object:
      return 'must be a mapping of fields';
    case ValueErrorType.Union:
      return s['x-kubernetes-int-or-string'] ? 'must be an integer or a string' : error.message;
    case ValueErrorType.StringPattern:
      return `must match ${String(s.pattern)}`;
    case ValueErrorType.StringMinLength:
      return s.minLength === 1 ? 'must not be empty' : `must be at least ${String(s.minLength)} characters`;
    case ValueErrorType.IntegerMinimum:
    case ValueErrorType.NumberMinimum:
      return `must be at least ${String(s.minimum)}`;
    case ValueErrorType.IntegerMaximum:
    case ValueErrorType.NumberMaximum:
      return `must be at most ${String(s.maximum)}`;
    default:
      return error.message;
  }
}

/**
 * Fields the schema does not define. Only walks object schemas (and lists of
 * them); values of the wrong type are left to schemaIssues.
 */
export function unknownFieldIssues(schema: PlainSchema, value: unknown, basePath: string): ProfileIssue[] {
  const issues: ProfileIssue[] = [];
  walkUnknown(schema, value, basePath, issues);
  return issues;
}

function walkUnknown(schema: PlainSchema, value: unknown, path: string, issues: ProfileIssue[]): void {
  if (schema.type === 'array' && Array.isArray(value) && schema.items) {
    const items = schema.items;
    value.forEach((item, i) => walkUnknown(items, item, `${path}[${i}]`, issues));
    return;
  }
  if (schema.type !== 'object' || !schema.properties || !isRecord(value)) return;
  const properties = schema.properties;
  for (const key of Object.keys(value)) {
    const child = joinPath(path, key);
    const prop = properties[key];
    if (prop === undefined) {
      issues.push({ path: child, message: `unknown field (known: ${Object.keys(properties).join(', ')})` });
    } else {
      walkUnknown(prop, value[key], child, issues);
    }
  }
}

/** What validation needs to know about the detector library, so this module stays free of engine imports. */
export interface DetectorCatalog {
  /** Library detector ids. */
  ids: ReadonlySet<string>;
  /** Names of the validators custom detectors may use. */
  validators: ReadonlySet<string>;
}

/** Id under which the engine registers a custom detector. */
export function effectiveCustomId(id: string): string {
  return id.startsWith('custom.') ? id : `custom.${id}`;
}

/**
 * Rules the schema cannot express. Expects a spec that passed schemaIssues
 * with defaults applied, but stays defensive: it is also run on specs that
 * have schema issues so that all problems are reported together.
 */
export function semanticIssues(spec: unknown, catalog: DetectorCatalog, basePath = 'spec'): ProfileIssue[] {
  if (!isRecord(spec)) return [];
  const issues: ProfileIssue[] = [];
  const at = (...segments: (string | number)[]) => segments.reduce<string>(
    (p, s) => (typeof s === 'number' ? `${p}[${s}]` : joinPath(p, s)),
    basePath,
  );

  if (isRecord(spec.egress)) {
    // The CRD's CEL rule says the same, so `kube-dlp profile validate` predicts `kubectl apply`.
    const allow = spec.egress.allow;
    if (spec.mode === 'Protect' && spec.egress.default === 'Deny' && !(Array.isArray(allow) && allow.length > 0)) {
      issues.push({
        path: at('egress', 'allow'),
        message: 'Protect mode with egress.default Deny needs at least one egress.allow rule (or it blocks all egress)',
      });
    }
    for (const list of ['allow', 'deny'] as const) {
      const rules = spec.egress[list];
      if (!Array.isArray(rules)) continue;
      rules.forEach((rule, i) => {
        if (!isRecord(rule)) return;
        const hasHost = rule.host !== undefined;
        const hasCidr = rule.cidr !== undefined;
        if (hasHost && hasCidr) issues.push({ path: at('egress', list, i), message: 'host and cidr are mutually exclusive; use two rules' });
        if (!hasHost && !hasCidr && rule.ports === undefined) {
          issues.push({ path: at('egress', list, i), message: 'a rule needs at least one of host, cidr or ports' });
        }
        if (typeof rule.host === 'string') {
          const parsed = parseHostPattern(rule.host);
          if (!parsed.ok) issues.push({ path: at('egress', list, i, 'host'), message: parsed.error });
        }
        if (typeof rule.cidr === 'string') {
          const parsed = parseCidr(rule.cidr);
          if (!parsed.ok) issues.push({ path: at('egress', list, i, 'cidr'), message: parsed.error });
        }
        if (Array.isArray(rule.ports)) {
          if (rule.ports.length === 0) issues.push({ path: at('egress', list, i, 'ports'), message: 'must list at least one port, or be omitted for any port' });
          rule.ports.forEach((p, j) => {
            if (typeof p !== 'number' && typeof p !== 'string') return;
            const parsed = parsePortSpec(p);
            if (!parsed.ok) issues.push({ path: at('egress', list, i, 'ports', j), message: parsed.error });
          });
        }
        if (list === 'deny' && rule.allowUninspectable !== undefined) {
          issues.push({ path: at('egress', list, i, 'allowUninspectable'), message: 'only meaningful on allow rules' });
        }
      });
    }
  }

  if (isRecord(spec.detectors)) {
    const d = spec.detectors;
    const customIds = new Map<string, number>();
    if (Array.isArray(d.custom)) {
      d.custom.forEach((c, i) => {
        if (!isRecord(c)) return;
        if (typeof c.id === 'string') {
          const id = effectiveCustomId(c.id);
          const first = customIds.get(id);
          if (first !== undefined) {
            issues.push({ path: at('detectors', 'custom', i, 'id'), message: `duplicate detector id "${id}" (also custom[${first}])` });
          } else {
            customIds.set(id, i);
          }
          if (id.length > 63) {
            issues.push({ path: at('detectors', 'custom', i, 'id'), message: `"${id}" is longer than 63 characters` });
          }
          if (catalog.ids.has(id)) {
            issues.push({ path: at('detectors', 'custom', i, 'id'), message: `"${id}" is a library detector id; choose another` });
          }
        }
        if (typeof c.validator === 'string' && !catalog.validators.has(c.validator)) {
          issues.push({
            path: at('detectors', 'custom', i, 'validator'),
            message: `unknown validator (known: ${[...catalog.validators].sort().join(', ')})`,
          });
        }
      });
    }
    if (Array.isArray(d.overrides)) {
      const seen = new Map<string, number>();
      d.overrides.forEach((o, i) => {
        if (!isRecord(o) || typeof o.id !== 'string') return;
        const isCustom = !catalog.ids.has(o.id) && customIds.has(effectiveCustomId(o.id));
        if (!catalog.ids.has(o.id) && !isCustom) {
          issues.push({ path: at('detectors', 'overrides', i, 'id'), message: 'unknown detector id (categories are set with spec.actions)' });
          return;
        }
        const id = isCustom ? effectiveCustomId(o.id) : o.id;
        const first = seen.get(id);
        if (first !== undefined) issues.push({ path: at('detectors', 'overrides', i, 'id'), message: `duplicate of overrides[${first}]` });
        else seen.set(id, i);
      });
    }
    for (const list of ['enable', 'disable'] as const) {
      const refs = d[list];
      if (!Array.isArray(refs)) continue;
      refs.forEach((ref, i) => {
        if (typeof ref !== 'string') return;
        const known =
          (CATEGORIES as readonly string[]).includes(ref) ||
          catalog.ids.has(ref) ||
          customIds.has(effectiveCustomId(ref));
        if (!known) {
          issues.push({ path: at('detectors', list, i), message: 'unknown detector id or category (see `kube-dlp detectors list`)' });
        }
      });
      issues.push(...duplicateIssues(refs, (i) => at('detectors', list, i)));
    }
  }

  if (isRecord(spec.inspection)) {
    const ins = spec.inspection;
    // Only between two valid sizes: a bad maxBodyBytes is already reported.
    const validSize = (v: unknown): v is number => Number.isInteger(v) && (v as number) >= 0;
    if (validSize(ins.holdBackBytes) && validSize(ins.maxBodyBytes) && ins.holdBackBytes > ins.maxBodyBytes) {
      issues.push({ path: at('inspection', 'holdBackBytes'), message: 'must not exceed inspection.maxBodyBytes' });
    }
    if (Array.isArray(ins.decoders)) issues.push(...duplicateIssues(ins.decoders, (i) => at('inspection', 'decoders', i)));
  }

  if (isRecord(spec.tenancy) && Array.isArray(spec.tenancy.sharedNamespaces)) {
    spec.tenancy.sharedNamespaces.forEach((sel, i) => {
      if (isRecord(sel) && (!isRecord(sel.matchLabels) || Object.keys(sel.matchLabels).length === 0)) {
        issues.push({ path: at('tenancy', 'sharedNamespaces', i), message: 'a shared-namespace selector needs at least one label' });
      }
    });
  }

  if (isRecord(spec.tenancy) && Array.isArray(spec.tenancy.exceptions)) {
    spec.tenancy.exceptions.forEach((e, i) => {
      if (isRecord(e) && (e.tenant === undefined) === (e.namespace === undefined)) {
        issues.push({ path: at('tenancy', 'exceptions', i), message: 'set exactly one of tenant or namespace' });
      }
    });
  }

  if (isRecord(spec.tlsOrigination) && Array.isArray(spec.tlsOrigination.hosts)) {
    const seen = new Map<string, number>();
    spec.tlsOrigination.hosts.forEach((h, i) => {
      if (!isRecord(h) || typeof h.host !== 'string') return;
      const parsed = parseHostPattern(h.host);
      if (!parsed.ok) {
        issues.push({ path: at('tlsOrigination', 'hosts', i, 'host'), message: parsed.error });
        return;
      }
      if (parsed.value.kind !== 'exact') {
        issues.push({ path: at('tlsOrigination', 'hosts', i, 'host'), message: 'must be an exact host name (no wildcard)' });
        return;
      }
      const key = `${parsed.value.name}:${String(h.port)}`;
      const first = seen.get(key);
      if (first !== undefined) {
        issues.push({ path: at('tlsOrigination', 'hosts', i), message: `duplicate of hosts[${first}]` });
      } else {
        seen.set(key, i);
      }
    });
  }

  if (isRecord(spec.tls)) {
    if (Array.isArray(spec.tls.bypass)) {
      spec.tls.bypass.forEach((b, i) => {
        if (typeof b !== 'string') return;
        const parsed = parseHostPattern(b);
        if (!parsed.ok) issues.push({ path: at('tls', 'bypass', i), message: parsed.error });
      });
      issues.push(...duplicateIssues(spec.tls.bypass, (i) => at('tls', 'bypass', i)));
    }
    if (isRecord(spec.tls.upstreamCA) && typeof spec.tls.upstreamCA.pem === 'string') {
      const problem = pemBundleProblem(spec.tls.upstreamCA.pem);
      if (problem) issues.push({ path: at('tls', 'upstreamCA', 'pem'), message: problem });
    }
    // The operator replaces configMapRef with pem in the rendered profile.
    if (isRecord(spec.tls.upstreamCA) && (spec.tls.upstreamCA.pem === undefined) === (spec.tls.upstreamCA.configMapRef === undefined)) {
      issues.push({ path: at('tls', 'upstreamCA'), message: 'give exactly one of pem or configMapRef' });
    }
  }

  return issues;
}

function duplicateIssues(values: unknown[], pathOf: (i: number) => string): ProfileIssue[] {
  const seen = new Map<unknown, number>();
  const issues: ProfileIssue[] = [];
  values.forEach((v, i) => {
    const first = seen.get(v);
    if (first === undefined) seen.set(v, i);
    else issues.push({ path: pathOf(i), message: `duplicate of entry [${first}]` });
  });
  return issues;
}

/** `/egress/allow/1/cidr` under `spec` -> `spec.egress.allow[1].cidr`, using the value to tell list indices from keys. */
export function pointerToPath(root: unknown, pointer: string, basePath: string): string {
  if (pointer === '' || pointer === '/') return basePath;
  let path = basePath;
  let node: unknown = root;
  for (const raw of pointer.slice(1).split('/')) {
    const seg = raw.replace(/~1/g, '/').replace(/~0/g, '~');
    if (Array.isArray(node)) {
      path = `${path}[${seg}]`;
      node = node[Number(seg)];
    } else {
      path = joinPath(path, seg);
      node = isRecord(node) ? node[seg] : undefined;
    }
  }
  return path;
}

export function joinPath(base: string, key: string): string {
  const segment = /^[A-Za-z_$][\w$-]*$/.test(key) ? key : JSON.stringify(key);
  if (base === '') return /^[A-Za-z_$]/.test(segment) ? segment : `[${segment}]`;
  return /^[A-Za-z_$]/.test(segment) ? `${base}.${segment}` : `${base}[${segment}]`;
}

export function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}
