// The one place that loads @peculiar/x509: it resolves its ASN.1 formatters
// through tsyringe, which needs the reflect-metadata polyfill before the
// library is evaluated, and it must be told to use Node's WebCrypto. The
// operator creates and issues certificates with it; the sidecar never loads
// it (intercept-ca.ts).
import 'reflect-metadata';
import { webcrypto } from 'node:crypto';
import * as x509 from '@peculiar/x509';

x509.cryptoProvider.set(webcrypto as unknown as Parameters<typeof x509.cryptoProvider.set>[0]);

export type CryptoKey = webcrypto.CryptoKey;
export type CryptoKeyPair = webcrypto.CryptoKeyPair;

export { x509 };
export const subtle = webcrypto.subtle;

/** ECDSA P-256 with SHA-256: the only key and signature algorithm kube-dlp mints with. */
export const P256 = { name: 'ECDSA', namedCurve: 'P-256' } as const;
export const P256_SHA256 = { name: 'ECDSA', hash: 'SHA-256' } as const;

export { toPem } from './pem';
