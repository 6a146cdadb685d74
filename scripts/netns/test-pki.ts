// A throwaway CA and server certificates made with the openssl CLI, for
// tests of TLS passthrough and TLS origination. Files are world-readable:
// the proxy under test runs as another uid.
import { execFileSync } from 'node:child_process';
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface TestPki {
  dir: string;
  caFile: string;
  /** Certificate and key files of a server certificate for `name`, signed by this CA. */
  server(name: string): { cert: string; key: string };
  /** The same from a CA nobody trusts. */
  untrusted(name: string): { cert: string; key: string };
  remove(): void;
}

function openssl(args: string[], cwd: string): void {
  execFileSync('openssl', args, { cwd, stdio: ['ignore', 'ignore', 'pipe'] });
}

function makeCa(dir: string, prefix: string): void {
  openssl(
    ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-keyout', `${prefix}.key`, '-out', `${prefix}.pem`, '-days', '2', '-subj', `/CN=${prefix}`,
      '-addext', 'basicConstraints=critical,CA:TRUE', '-addext', 'keyUsage=critical,keyCertSign,cRLSign'],
    dir,
  );
}

function issue(dir: string, ca: string, name: string, out: string): { cert: string; key: string } {
  openssl(['req', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-keyout', `${out}.key`, '-out', `${out}.csr`, '-subj', `/CN=${name}`], dir);
  writeFileSync(join(dir, `${out}.ext`), `subjectAltName=DNS:${name}\nbasicConstraints=CA:FALSE\nkeyUsage=digitalSignature\nextendedKeyUsage=serverAuth\n`);
  openssl(['x509', '-req', '-in', `${out}.csr`, '-CA', `${ca}.pem`, '-CAkey', `${ca}.key`, '-CAcreateserial', '-out', `${out}.pem`, '-days', '2', '-extfile', `${out}.ext`], dir);
  for (const f of [`${out}.pem`, `${out}.key`]) chmodSync(join(dir, f), 0o644);
  return { cert: join(dir, `${out}.pem`), key: join(dir, `${out}.key`) };
}

export function createTestPki(): TestPki {
  const dir = mkdtempSync(join(tmpdir(), 'kdlp-pki-'));
  chmodSync(dir, 0o755);
  makeCa(dir, 'ca');
  chmodSync(join(dir, 'ca.pem'), 0o644);
  let untrustedCa = false;
  let n = 0;
  return {
    dir,
    caFile: join(dir, 'ca.pem'),
    server: (name) => issue(dir, 'ca', name, `server-${n++}`),
    untrusted(name) {
      if (!untrustedCa) {
        makeCa(dir, 'rogue-ca');
        untrustedCa = true;
      }
      return issue(dir, 'rogue-ca', name, `rogue-${n++}`);
    },
    remove: () => rmSync(dir, { recursive: true, force: true }),
  };
}
