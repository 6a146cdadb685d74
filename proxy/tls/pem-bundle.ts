// PEM bundles of CA certificates given by users (profile upstreamCA,
// --upstream-ca-file): parsed once, each certificate checked, so a typo is
// reported where it was written rather than as a failed handshake later.
import { X509Certificate } from 'node:crypto';

const PEM_CERT = /-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g;

/** The certificates of a bundle, PEM each; throws Error with the reason when any is unusable. */
export function parsePemBundle(text: string): string[] {
  const certs = text.match(PEM_CERT) ?? [];
  if (certs.length === 0) throw new Error('contains no PEM certificate');
  certs.forEach((pem, i) => {
    try {
      new X509Certificate(pem);
    } catch {
      throw new Error(`certificate ${i + 1} of the bundle is not valid`);
    }
  });
  return certs;
}

/** Why a bundle is unusable, or undefined when it is fine. */
export function pemBundleProblem(text: string): string | undefined {
  try {
    parsePemBundle(text);
    return undefined;
  } catch (err) {
    return `PEM bundle ${(err as Error).message}`;
  }
}
