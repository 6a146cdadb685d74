// DER to PEM for what kube-dlp writes: minted leaves, CA keys and certificates.

export function toPem(der: ArrayBuffer | Uint8Array, label: 'PRIVATE KEY' | 'CERTIFICATE'): string {
  const b64 = (der instanceof Uint8Array ? Buffer.from(der.buffer, der.byteOffset, der.byteLength) : Buffer.from(der)).toString('base64').replace(/.{64}/g, '$&\n').replace(/\n$/, '');
  return `-----BEGIN ${label}-----\n${b64}\n-----END ${label}-----\n`;
}
