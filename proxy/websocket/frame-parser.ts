// Client-to-server WebSocket frames (RFC 6455 §5.2), parsed incrementally
// from whatever chunks TCP delivers. The proxy needs the payload of every
// frame unmasked to scan it, and the raw bytes to forward it unchanged when
// the message is clean. Memory is bounded by the largest frame allowed, which
// the caller sets from the profile (a larger frame is refused before its
// payload is buffered).
import { WebSocketProtocolError } from './errors';

export const OPCODE = { continuation: 0x0, text: 0x1, binary: 0x2, close: 0x8, ping: 0x9, pong: 0xa } as const;

export interface ClientFrame {
  fin: boolean;
  /** RSV1..3 as a 3-bit number; non-zero only with a negotiated extension. */
  rsv: number;
  opcode: number;
  /** Payload with the client's mask removed. */
  payload: Buffer;
  /** The frame exactly as received (masked), for forwarding unchanged. */
  raw: Buffer;
}

export class ClientFrameParser {
  private chunks: Buffer[] = [];
  private buffered = 0;

  constructor(private readonly maxFrameBytes: number) {}

  /** Feed bytes; returns every frame completed by them. Throws WebSocketProtocolError on a broken or oversized frame. */
  push(chunk: Buffer): ClientFrame[] {
    if (chunk.length > 0) {
      this.chunks.push(chunk);
      this.buffered += chunk.length;
    }
    const frames: ClientFrame[] = [];
    for (;;) {
      const frame = this.next();
      if (frame === undefined) return frames;
      frames.push(frame);
    }
  }

  /** Bytes of a frame received but not yet complete. */
  get pendingBytes(): number {
    return this.buffered;
  }

  private next(): ClientFrame | undefined {
    if (this.buffered < 2) return undefined;
    const head = this.peek(Math.min(this.buffered, 14));
    const b0 = head[0]!;
    const b1 = head[1]!;
    const fin = (b0 & 0x80) !== 0;
    const rsv = (b0 >> 4) & 0x7;
    const opcode = b0 & 0x0f;
    const masked = (b1 & 0x80) !== 0;
    let length = b1 & 0x7f;
    let offset = 2;
    if (length === 126) {
      if (head.length < 4) return undefined;
      length = head.readUInt16BE(2);
      offset = 4;
    } else if (length === 127) {
      if (head.length < 10) return undefined;
      const high = head.readUInt32BE(2);
      // §5.2: the most significant bit must be 0; anything past 2^53 is no real frame either.
      if (high > 0x1fffff) throw new WebSocketProtocolError(1009, 'frame length out of range');
      length = high * 2 ** 32 + head.readUInt32BE(6);
      offset = 10;
    }
    if (!masked) throw new WebSocketProtocolError(1002, 'client frame is not masked (RFC 6455 §5.1)');
    if (opcode >= 0x8) {
      if (!fin) throw new WebSocketProtocolError(1002, 'fragmented control frame');
      if (length > 125) throw new WebSocketProtocolError(1002, 'control frame payload longer than 125 bytes');
    } else if (opcode > 0x2) {
      throw new WebSocketProtocolError(1002, `reserved opcode ${opcode}`);
    }
    if (length > this.maxFrameBytes) {
      throw new WebSocketProtocolError(1009, `frame of ${length} bytes exceeds the inspection limit (${this.maxFrameBytes})`);
    }
    if (head.length < offset + 4) return undefined;
    const total = offset + 4 + length;
    if (this.buffered < total) return undefined;
    const raw = this.take(total);
    const mask = raw.subarray(offset, offset + 4);
    const payload = Buffer.allocUnsafe(length);
    for (let i = 0; i < length; i++) payload[i] = raw[offset + 4 + i]! ^ mask[i & 3]!;
    return { fin, rsv, opcode, payload, raw };
  }

  private peek(n: number): Buffer {
    if (this.chunks[0]!.length >= n) return this.chunks[0]!.subarray(0, n);
    return Buffer.concat(this.chunks, this.buffered).subarray(0, n);
  }

  private take(n: number): Buffer {
    const all = this.chunks.length === 1 ? this.chunks[0]! : Buffer.concat(this.chunks, this.buffered);
    const out = Buffer.from(all.subarray(0, n));
    const rest = all.subarray(n);
    this.chunks = rest.length > 0 ? [rest] : [];
    this.buffered = rest.length;
    return out;
  }
}
