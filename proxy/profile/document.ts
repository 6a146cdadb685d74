// Reads the two document forms a profile arrives in and separates the
// envelope (who the profile is) from the spec (what it says):
// - a SecurityProfile / ClusterSecurityProfile manifest, as written by users
//   or printed by `kubectl get -o yaml`;
// - a RenderedProfile, the file the operator writes into the sidecar's
//   ConfigMap once it has resolved which profile applies to a workload.
import { parseDocument } from 'yaml';
import { ProfileError, type ProfileIssue } from './errors';
import { API_VERSION, MANIFEST_KINDS, RENDERED_KIND } from './document-kinds';
import { isRecord, joinPath, schemaIssues } from './validate';

export type ProfileKind = (typeof MANIFEST_KINDS)[number] | typeof RENDERED_KIND;

export interface ProfileDocument {
  kind: ProfileKind;
  name: string;
  namespace?: string;
  tenant?: string;
  /** RenderedProfile's profile.version, if the operator set one. */
  sourceVersion?: string;
  /** The spec as written (nulls removed, no defaults yet); undefined when absent. */
  spec: unknown;
  /**
   * Envelope problems. Returned rather than thrown so that they are reported
   * together with the spec's; only a document that is not a profile at all
   * (not a mapping, unknown kind, YAML errors) throws straight away.
   */
  issues: ProfileIssue[];
}

// `status` is written by the operator; everything else under metadata is
// Kubernetes bookkeeping we neither need nor police.
const MANIFEST_FIELDS = ['apiVersion', 'kind', 'metadata', 'spec', 'status'];
const RENDERED_FIELDS = ['apiVersion', 'kind', 'profile', 'spec'];

/** Parses YAML (JSON is a subset) into a ProfileDocument; throws ProfileError if it is not a profile document at all. */
export function readProfileDocument(text: string, source?: string): ProfileDocument {
  const doc = parseDocument(text, { uniqueKeys: true });
  if (doc.errors.length > 0) {
    // Only the first line of yaml's message: the rest quotes file content.
    // yaml's own wording for several documents names its API, not the fix.
    const issues = doc.errors.map((e) => ({
      path: '',
      message:
        e.code === 'MULTIPLE_DOCS'
          ? 'holds more than one YAML document (---); give one profile per file'
          : `YAML: ${e.message.split('\n')[0].replace(/:$/, '')}`,
    }));
    throw new ProfileError('KDLP_PROFILE_INVALID', issues, source);
  }
  let value: unknown;
  try {
    value = doc.toJS({ maxAliasCount: 100 });
  } catch (err) {
    throw new ProfileError('KDLP_PROFILE_INVALID', [{ path: '', message: `YAML: ${(err as Error).message.split('\n')[0]}` }], source);
  }
  return readEnvelope(value, source);
}

function readEnvelope(value: unknown, source?: string): ProfileDocument {
  const wrongDocument = (message: string, path = ''): never => {
    throw new ProfileError('KDLP_PROFILE_INVALID', [{ path, message }], source);
  };
  if (!isRecord(value)) {
    wrongDocument(`expected a SecurityProfile, ClusterSecurityProfile or ${RENDERED_KIND} document`);
  }
  const doc = value as Record<string, unknown>;
  const kinds: readonly string[] = [...MANIFEST_KINDS, RENDERED_KIND];
  if (typeof doc.kind !== 'string' || !kinds.includes(doc.kind)) {
    wrongDocument(`must be one of: ${kinds.join(', ')}`, 'kind');
  }
  const rendered = doc.kind === RENDERED_KIND;

  const issues: ProfileIssue[] = [];
  if (doc.apiVersion !== API_VERSION) issues.push({ path: 'apiVersion', message: `must be ${API_VERSION}` });
  issues.push(...schemaIssues(rendered ? 'RENDERED_ENVELOPE' : 'MANIFEST_ENVELOPE', doc, ''));
  const allowed = rendered ? RENDERED_FIELDS : MANIFEST_FIELDS;
  for (const key of Object.keys(doc)) {
    if (!allowed.includes(key)) issues.push({ path: joinPath('', key), message: `unknown field (known: ${allowed.join(', ')})` });
  }
  if (rendered && isRecord(doc.profile)) {
    for (const key of Object.keys(doc.profile)) {
      if (!['name', 'namespace', 'tenant', 'version'].includes(key)) {
        issues.push({ path: joinPath('profile', key), message: 'unknown field (known: name, namespace, tenant, version)' });
      }
    }
  }
  if (doc.kind === 'ClusterSecurityProfile' && isRecord(doc.metadata) && doc.metadata.namespace !== undefined) {
    issues.push({ path: 'metadata.namespace', message: 'a ClusterSecurityProfile is cluster-scoped and has no namespace' });
  }
  if (doc.spec !== undefined && doc.spec !== null && !isRecord(doc.spec)) {
    issues.push({ path: 'spec', message: 'must be a mapping of fields' });
  }
  // Keep the apiVersion message only once if TypeBox also flagged it.
  const unique = issues.filter((i, n) => issues.findIndex((j) => j.path === i.path) === n);

  const ident = ((rendered ? doc.profile : doc.metadata) ?? {}) as {
    name: string;
    namespace?: string;
    tenant?: string;
    version?: string;
  };
  return {
    kind: doc.kind as ProfileKind,
    name: ident.name,
    namespace: ident.namespace,
    tenant: rendered ? ident.tenant : undefined,
    sourceVersion: rendered ? ident.version : undefined,
    spec: isRecord(doc.spec) ? dropNulls(doc.spec) : undefined,
    issues: unique,
  };
}

/**
 * The API server treats `field: null` (an empty YAML value) as absent and
 * then applies defaults; do the same so a file and its applied CR agree.
 */
function dropNulls(value: unknown): unknown {
  if (value === null) return undefined;
  if (Array.isArray(value)) return value.map((v) => (isRecord(v) ? dropNulls(v) : v));
  if (!isRecord(value)) return value;
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(value)) {
    if (v !== null) out[k] = dropNulls(v);
  }
  return out;
}
