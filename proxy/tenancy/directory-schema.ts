// The tenant directory's schema (the format is described in directory.ts).
// TypeBox builds it for the TypeScript type, the generated plain form the
// sidecar checks with (profile/plain-schemas.generated.ts), and the messages
// for a directory that does not conform.
import { Type, type Static } from '@sinclair/typebox';
import { API_VERSION, TENANT_DIRECTORY_KIND } from '../profile/document-kinds';

const DNS_LABEL = '^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$';
const DOMAIN = '^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?)*$';

export const TenantDirectorySchema = Type.Object(
  {
    apiVersion: Type.Literal(API_VERSION, { description: API_VERSION }),
    kind: Type.Literal(TENANT_DIRECTORY_KIND, { description: TENANT_DIRECTORY_KIND }),
    version: Type.Optional(Type.String({ description: "The operator's version of this rendering, for logs." })),
    clusterDomains: Type.Optional(
      Type.Array(Type.String({ pattern: DOMAIN }), { description: 'Cluster DNS domains (default cluster.local).' }),
    ),
    clusterNetworks: Type.Optional(
      Type.Array(Type.String(), {
        description:
          'In-cluster address ranges (Service and Pod CIDRs). An address inside them that no entry of ' +
          '`addresses` maps is treated as belonging to an unknown tenant.',
      }),
    ),
    namespaces: Type.Array(
      Type.Object(
        {
          name: Type.String({ pattern: DNS_LABEL, description: 'Namespace name.' }),
          tenant: Type.Optional(Type.String({ minLength: 1, description: 'Tenant owning the namespace.' })),
          shared: Type.Optional(
            Type.Boolean({ description: 'Cluster-wide services every tenant may reach (DNS, monitoring).' }),
          ),
        },
        { additionalProperties: false },
      ),
      { default: [] },
    ),
    addresses: Type.Array(
      Type.Object(
        {
          cidr: Type.String({ description: 'An IPv4/IPv6 address or network.' }),
          namespace: Type.String({ pattern: DNS_LABEL, description: 'Namespace the address belongs to.' }),
          kind: Type.Optional(Type.String({ description: 'Service, Pod, ... (for logs only).' })),
          name: Type.Optional(Type.String({ description: 'Object name (for logs only).' })),
        },
        { additionalProperties: false },
      ),
      { default: [] },
    ),
  },
  { additionalProperties: false },
);

export type TenantDirectorySpec = Static<typeof TenantDirectorySchema>;
