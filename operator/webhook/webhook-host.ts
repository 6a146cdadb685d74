// `kube-dlp operator --webhook-host HOST[:PORT]`: an operator running outside
// the cluster (a laptop, a debugger) serves the webhook at an address the API
// server can reach. That address is where it listens, a name in its serving
// certificate, and the URL the webhook configuration gets instead of the
// in-cluster Service, which would route to no one.
import { isIP } from 'node:net';
import { WebhookOptionsError } from '../errors';
import { INJECT_PATH } from './server';
import { WEBHOOK_CONTAINER_PORT } from './webhook-configuration';

export interface WebhookHost {
  listen: { host: string; port: number };
  url: string;
  dnsNames: string[];
  ipAddresses: string[];
}

/** "10.0.0.5", "10.0.0.5:8443", "dev.example:8443", "[fd00::5]:8443"; port default 9443. */
export function parseWebhookHost(text: string): WebhookHost {
  const m = /^\[([0-9a-fA-F:.]+)\](?::(\d{1,5}))?$/.exec(text) ?? /^([^:[\]\s/]+)(?::(\d{1,5}))?$/.exec(text);
  const port = m?.[2] === undefined ? WEBHOOK_CONTAINER_PORT : Number(m[2]);
  if (!m || !(port >= 1 && port <= 65535)) {
    throw new WebhookOptionsError(`--webhook-host ${JSON.stringify(text)}: expected HOST[:PORT], e.g. 192.168.1.20:9443, dev.example or [fd00::5]:9443`);
  }
  const host = m[1];
  const family = isIP(host);
  if (family === 0 && !/^[a-zA-Z0-9]([a-zA-Z0-9-]*[a-zA-Z0-9])?(\.[a-zA-Z0-9]([a-zA-Z0-9-]*[a-zA-Z0-9])?)*$/.test(host)) {
    throw new WebhookOptionsError(`--webhook-host ${JSON.stringify(text)}: ${JSON.stringify(host)} is neither an IP address nor a DNS name`);
  }
  if (family !== 0 && ['0.0.0.0', '::'].includes(host)) {
    throw new WebhookOptionsError(`--webhook-host ${JSON.stringify(text)}: the API server needs an address it can call, not a wildcard`);
  }
  const urlHost = family === 6 ? `[${host}]` : host;
  return {
    listen: { host, port },
    url: `https://${urlHost}:${port}${INJECT_PATH}`,
    dnsNames: family === 0 ? [host] : [],
    ipAddresses: family === 0 ? [] : [host],
  };
}
