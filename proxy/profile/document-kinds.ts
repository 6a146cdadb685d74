// The API group and the kinds of the documents the sidecar reads. Kept apart from
// schema.ts, which builds the TypeBox schemas: the sidecar reads documents
// without loading TypeBox (see plain-schema.ts).
export const API_VERSION = 'kubedlp.io/v1alpha1';
export const MANIFEST_KINDS = ['SecurityProfile', 'ClusterSecurityProfile'] as const;
export const RENDERED_KIND = 'RenderedProfile';
/** The operator's tenant directory (proxy/tenancy/directory.ts). */
export const TENANT_DIRECTORY_KIND = 'TenantDirectory';
