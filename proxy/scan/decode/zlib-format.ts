// Recognising compressed formats by their first bytes.

/**
 * RFC 1950 zlib header: compression method 8 (deflate), window bits <= 15,
 * and the two header bytes read as a big-endian number are a multiple of 31.
 * HTTP's `deflate` means zlib-wrapped data, but some servers send raw deflate;
 * a raw stream passes this check only by accident (about 1 in 500).
 */
export function hasZlibHeader(data: Uint8Array): boolean {
  if (data.length < 2) return false;
  const cmf = data[0];
  const flg = data[1];
  return (cmf & 0x0f) === 8 && cmf >> 4 <= 7 && ((cmf << 8) | flg) % 31 === 0;
}

/** RFC 1952 gzip member magic. */
export function hasGzipMagic(data: Uint8Array): boolean {
  return data.length >= 2 && data[0] === 0x1f && data[1] === 0x8b;
}
