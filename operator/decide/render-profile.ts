// The rendered profile: the document the sidecar mounts (profile.yaml) and
// hot-reloads, in the RenderedProfile format proxy/profile/document.ts reads.
// Pure and deterministic: equal inputs give equal bytes, so an unchanged
// profile never rewrites a ConfigMap (and never reloads a sidecar).
import type { TSchema } from '@sinclair/typebox';
import { stringify } from 'yaml';
import { API_VERSION, RENDERED_KIND, SecurityProfileSpecSchema } from '../../proxy/profile/schema';
import { FIELD_MANAGER } from '../api/names';
import type { ProfileView } from '../model/views';

export interface RenderTarget {
  /** The opted-in namespace the rendering is for. */
  namespace: string;
  tenant: string;
}

/** The version a rendering carries: changes with the profile's spec, not with its status. */
export function renderedVersion(profile: Pick<ProfileView, 'generation'>): string {
  return String(profile.generation);
}

export function renderProfile(profile: ProfileView, target: RenderTarget): string {
  const source = profile.namespace ? `${profile.kind} ${profile.namespace}/${profile.name}` : `${profile.kind} ${profile.name}`;
  const header =
    `# Rendered by ${FIELD_MANAGER} from ${source} (generation ${profile.generation})\n` +
    `# for namespace ${target.namespace}, tenant ${target.tenant}. Edits are overwritten: change the profile instead.\n`;
  const doc = {
    apiVersion: API_VERSION,
    kind: RENDERED_KIND,
    profile: {
      name: profile.name,
      ...(profile.namespace ? { namespace: profile.namespace } : {}),
      tenant: target.tenant,
      version: renderedVersion(profile),
    },
    spec: inSchemaOrder(SecurityProfileSpecSchema, profile.spec ?? {}),
  };
  return header + stringify(doc, { lineWidth: 0, aliasDuplicateObjects: false });
}

/**
 * Keys in the order the schema defines them (readable, and independent of
 * the order the API server happened to send); unknown keys, which a
 * structural CRD prunes anyway, sorted after them.
 */
export function inSchemaOrder(schema: TSchema | undefined, value: unknown): unknown {
  if (Array.isArray(value)) return value.map((v) => inSchemaOrder(schema?.items as TSchema | undefined, v));
  if (value === null || typeof value !== 'object') return value;
  const record = value as Record<string, unknown>;
  const properties = (schema?.properties ?? {}) as Record<string, TSchema>;
  const known = Object.keys(properties).filter((k) => record[k] !== undefined && record[k] !== null);
  const unknown = Object.keys(record)
    .filter((k) => !(k in properties) && record[k] !== undefined && record[k] !== null)
    .sort();
  const out: Record<string, unknown> = {};
  for (const k of [...known, ...unknown]) out[k] = inSchemaOrder(properties[k], record[k]);
  return out;
}
