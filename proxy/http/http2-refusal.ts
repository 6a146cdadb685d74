// Plaintext HTTP/2 is refused until the proxy inspects HTTP/2. A client that
// starts with the prior-knowledge preface (`PRI * HTTP/2.0`) speaks HTTP/2
// from its first byte and would not understand an HTTP/1.1 status line, so it
// is answered in its own protocol: an empty SETTINGS frame (the server
// preface, RFC 9113 §3.4) then GOAWAY with HTTP_1_1_REQUIRED (§7, 0xd) and
// the reason as debug data, which clients such as curl print.
const FRAME_SETTINGS = 0x4;
const FRAME_GOAWAY = 0x7;
const HTTP_1_1_REQUIRED = 0xd;

export const HTTP2_REFUSAL_REASON = 'HTTP/2 in plaintext (h2c) is not inspected by this proxy: use HTTP/1.1';

/** The bytes that refuse an HTTP/2 prior-knowledge connection with `reason`. */
export function http2Refusal(reason: string = HTTP2_REFUSAL_REASON): Buffer {
  const debug = Buffer.from(reason, 'utf8');
  const goawayPayload = Buffer.alloc(8 + debug.length);
  goawayPayload.writeUInt32BE(0, 0); // last stream id: none was processed
  goawayPayload.writeUInt32BE(HTTP_1_1_REQUIRED, 4);
  debug.copy(goawayPayload, 8);
  return Buffer.concat([frame(FRAME_SETTINGS, Buffer.alloc(0)), frame(FRAME_GOAWAY, goawayPayload)]);
}

function frame(type: number, payload: Buffer): Buffer {
  const head = Buffer.alloc(9);
  head.writeUIntBE(payload.length, 0, 3);
  head.writeUInt8(type, 3);
  head.writeUInt8(0, 4); // flags
  head.writeUInt32BE(0, 5); // stream 0: connection-level
  return Buffer.concat([head, payload]);
}
