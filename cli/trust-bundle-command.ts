// `kube-dlp trust-bundle`: what the injected init container kube-dlp-trust
// runs in pods of namespaces that intercept TLS. Writes the combined bundle
// (system roots + tenant CAs) into the in-memory volume app containers read
// through SSL_CERT_FILE and friends. Reads certificates only: the CA key is
// never mounted into this container.
import { readFile, rename, writeFile } from 'node:fs/promises';
import { rootCertificates } from 'node:tls';
import type { Command } from 'commander';
import { combineBundles } from '../operator/tls-ca/combined-bundle';
import { UsageError } from './exit-codes';

/** Where Debian/Ubuntu/Alpine and RHEL/Fedora keep the system bundle. */
const SYSTEM_BUNDLES = ['/etc/ssl/certs/ca-certificates.crt', '/etc/pki/tls/certs/ca-bundle.crt'];
const PEM_CERT = /-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g;

export interface TrustBundleOptions {
  ca: string;
  out: string;
  systemRoots?: string[];
}

export async function writeTrustBundle(o: TrustBundleOptions): Promise<string> {
  let tenantPem: string;
  try {
    tenantPem = await readFile(o.ca, 'utf8');
  } catch (err) {
    throw new UsageError(`--ca ${o.ca}: cannot read (${(err as NodeJS.ErrnoException).code ?? 'EIO'})`);
  }
  // Node's own Mozilla roots always, plus the image's store when it has one.
  const system = [...rootCertificates];
  for (const file of o.systemRoots ?? SYSTEM_BUNDLES) {
    const text = await readFile(file, 'utf8').catch(() => '');
    system.push(...(text.match(PEM_CERT) ?? []));
  }
  let bundle;
  try {
    bundle = combineBundles(tenantPem, system);
  } catch (err) {
    throw new UsageError(`--ca ${o.ca}: ${(err as Error).message}`);
  }
  // Whole or not at all: a reader never sees half a bundle.
  const tmp = `${o.out}.tmp-${process.pid}`;
  await writeFile(tmp, bundle.text, { mode: 0o444 });
  await rename(tmp, o.out);
  return `wrote ${o.out}: ${bundle.tenantFingerprints.length} tenant CA(s) (${bundle.tenantFingerprints.join(', ')}) + ${bundle.systemCount} system roots`;
}

export function registerTrustBundleCommand(program: Command): void {
  program
    .command('trust-bundle')
    .description('Write the CA bundle app containers trust: system roots plus the tenant interception CAs (the injected init container runs this)')
    .requiredOption('--ca <file>', 'PEM bundle of the tenant CAs (the mounted ConfigMap kube-dlp-trust-bundle)')
    .requiredOption('--out <file>', 'where to write the combined bundle')
    .option('--system-roots <file...>', `system bundles to include beside Node's built-in roots (default: ${SYSTEM_BUNDLES.join(', ')} where present)`)
    .action(async (o: TrustBundleOptions) => {
      process.stdout.write(`${await writeTrustBundle(o)}\n`);
    });
}
