// Frames the proxy writes itself: close frames to the client (servers never
// mask, §5.1) and to the upstream (clients always mask), and a clean
// re-framing of a redacted message toward the upstream.
import { randomBytes } from 'node:crypto';
import { OPCODE } from './frame-parser';

/** A close frame from the proxy to the client: code and a short reason (truncated to fit §5.5's 125 bytes). */
export function serverCloseFrame(code: number, reason: string): Buffer {
  return frame(OPCODE.close, closePayload(code, reason), false);
}

/** A close frame from the proxy to the upstream, masked as a client's must be. */
export function clientCloseFrame(code: number, reason: string): Buffer {
  return frame(OPCODE.close, closePayload(code, reason), true);
}

/** One complete, masked data frame carrying `payload` (a whole message). */
export function clientDataFrame(opcode: number, payload: Buffer): Buffer {
  return frame(opcode, payload, true);
}

function closePayload(code: number, reason: string): Buffer {
  let text = Buffer.from(reason, 'utf8');
  if (text.length > 123) text = Buffer.from(text.subarray(0, 120).toString('utf8').replace(/\uFFFD+$/, '') + '...', 'utf8');
  const out = Buffer.alloc(2 + text.length);
  out.writeUInt16BE(code, 0);
  text.copy(out, 2);
  return out;
}

function frame(opcode: number, payload: Buffer, masked: boolean): Buffer {
  const length = payload.length;
  const lengthBytes = length < 126 ? 0 : length < 65536 ? 2 : 8;
  const head = Buffer.alloc(2 + lengthBytes + (masked ? 4 : 0));
  head[0] = 0x80 | opcode;
  head[1] = (masked ? 0x80 : 0) | (lengthBytes === 0 ? length : lengthBytes === 2 ? 126 : 127);
  if (lengthBytes === 2) head.writeUInt16BE(length, 2);
  if (lengthBytes === 8) head.writeBigUInt64BE(BigInt(length), 2);
  if (!masked) return Buffer.concat([head, payload]);
  const mask = randomBytes(4);
  mask.copy(head, 2 + lengthBytes);
  const body = Buffer.allocUnsafe(length);
  for (let i = 0; i < length; i++) body[i] = payload[i]! ^ mask[i & 3]!;
  return Buffer.concat([head, body]);
}
