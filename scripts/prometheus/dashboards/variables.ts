// Template variables the dashboards share. All means the regex `.*`, so a
// selector like namespace=~"$namespace" keeps working with nothing chosen.
import type { VariableSpec } from '../grafana';

export const PROMETHEUS_DATASOURCE: VariableSpec = {
  kind: 'datasource',
  name: 'datasource',
  label: 'Prometheus',
  pluginId: 'prometheus',
  description: 'The Prometheus that scrapes the kube-dlp sidecars and operator.',
};

export const LOKI_DATASOURCE: VariableSpec = {
  kind: 'datasource',
  name: 'loki',
  label: 'Loki (audit log)',
  pluginId: 'loki',
  description: 'Optional: the Loki holding the sidecar logs, for the audit log panel.',
};

/**
 * The sidecar writes audit lines (JSON) to stdout, so log shippers label them
 * with the container name; a shipper configured differently (for example
 * `{app="kube-dlp"}` for audit files collected with --audit-log) changes this.
 */
export const AUDIT_SELECTOR: VariableSpec = {
  kind: 'textbox',
  name: 'audit_selector',
  label: 'Audit log stream',
  value: '{container="kube-dlp-proxy"}',
  description: 'LogQL stream selector of the sidecar logs in Loki.',
};

export const NAMESPACE: VariableSpec = {
  kind: 'query',
  name: 'namespace',
  label: 'Namespace',
  query: 'label_values(kubedlp_config_info, namespace)',
  description: 'Namespaces with kube-dlp sidecars.',
};

export const TENANT: VariableSpec = {
  kind: 'query',
  name: 'tenant',
  label: 'Tenant',
  query: 'label_values(kubedlp_proxy_requests_total{namespace=~"$namespace"}, tenant)',
  description: 'Tenants (kubedlp.io/tenant) of the selected namespaces.',
};

export const PROFILE: VariableSpec = {
  kind: 'query',
  name: 'profile',
  label: 'Profile',
  query: 'label_values(kubedlp_config_info{namespace=~"$namespace"}, profile)',
  description: 'SecurityProfiles the selected sidecars run.',
};

export const POD: VariableSpec = {
  kind: 'query',
  name: 'pod',
  label: 'Pod',
  query: 'label_values(kubedlp_config_info{namespace=~"$namespace", profile=~"$profile"}, pod)',
  description: 'Pods with a kube-dlp sidecar.',
};
