// Renders the sidecar template (sidecar-template.yaml): YAML parsed first,
// placeholders replaced in the parsed tree. Working on the tree rather than
// the text means a value can never change the YAML's structure (a tenant name
// with a colon stays a string), and typed values (ports, resources) keep
// their type.
import { existsSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { parse } from 'yaml';
import { TemplateError } from '../errors';

/** A template's sections, as parsed; inject.ts knows their shape. */
export type Template = Record<string, unknown>;
/** undefined = absent: the entry holding the placeholder is left out. */
export type TemplateValues = Record<string, unknown>;

export const TEMPLATE_SECTIONS = ['proxy', 'initIptables', 'volumes', 'appEnv', 'podAnnotations', 'podLabels'] as const;
/** Needed only for pods of namespaces that intercept TLS: a template without them fails those pods, not all. */
export const TLS_TEMPLATE_SECTIONS = ['interceptCa', 'trustInit', 'trustVolumes', 'appTrustMounts', 'appTrustEnv'] as const;

const WHOLE = /^\{\{\s*([A-Za-z][A-Za-z0-9]*)\s*\}\}$/;
const INLINE = /\{\{\s*([A-Za-z][A-Za-z0-9]*)\s*\}\}/g;
const DROP: unique symbol = Symbol('drop');

/** The built-in template: beside the compiled file in dist, or in the source tree. */
export function defaultTemplatePath(): string {
  const name = 'sidecar-template.yaml';
  const candidates = [join(__dirname, name), resolve(__dirname, '..', '..', '..', 'operator', 'inject', name)];
  return candidates.find((p) => existsSync(p)) ?? candidates[0]!;
}

export function parseTemplate(text: string, source = 'template'): Template {
  let doc: unknown;
  try {
    doc = parse(text);
  } catch (err) {
    throw new TemplateError(`${source}: not YAML: ${(err as Error).message}`);
  }
  if (doc === null || typeof doc !== 'object' || Array.isArray(doc)) throw new TemplateError(`${source}: must be a YAML map of sections`);
  const missing = TEMPLATE_SECTIONS.filter((s) => !(s in (doc as object)));
  if (missing.length > 0) throw new TemplateError(`${source}: missing section(s) ${missing.join(', ')}`);
  return doc as Template;
}

export function loadTemplate(path = defaultTemplatePath()): Template {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    throw new TemplateError(`cannot read sidecar template ${path}: ${(err as Error).message}`);
  }
  return parseTemplate(text, path);
}

/** Renders one section (or any node) with `values`; unknown placeholder names throw TemplateError. */
export function render<T = unknown>(node: unknown, values: TemplateValues): T {
  const out = renderNode(node, values, '');
  return (out === DROP ? undefined : out) as T;
}

function lookup(name: string, values: TemplateValues, path: string): unknown {
  if (!Object.prototype.hasOwnProperty.call(values, name)) {
    throw new TemplateError(`template ${path || '/'}: unknown value "${name}" (known: ${Object.keys(values).sort().join(', ')})`);
  }
  return values[name];
}

function renderNode(node: unknown, values: TemplateValues, path: string): unknown {
  if (typeof node === 'string') {
    // Most of a template is literal text: no placeholder, nothing to match (the webhook renders on every admission).
    if (!node.includes('{{')) return node;
    const whole = WHOLE.exec(node);
    if (whole) {
      const v = lookup(whole[1]!, values, path);
      if (v === undefined) return DROP;
      // A copy per pod for lists and maps (the caller may change them); text and numbers are values already.
      return typeof v === 'object' && v !== null ? structuredClone(v) : v;
    }
    let absent = false;
    const text = node.replace(INLINE, (_m, name: string) => {
      const v = lookup(name, values, path);
      if (v === undefined) absent = true;
      else if (typeof v === 'object') throw new TemplateError(`template ${path}: "${name}" is not text and cannot go inside a string`);
      return String(v);
    });
    return absent ? DROP : text;
  }
  if (Array.isArray(node)) {
    return node.map((item, i) => renderNode(item, values, `${path}/${i}`)).filter((v) => v !== DROP);
  }
  if (node !== null && typeof node === 'object') {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(node)) {
      const r = renderNode(v, values, `${path}/${k}`);
      if (r !== DROP) out[k] = r;
    }
    return out;
  }
  return node;
}
