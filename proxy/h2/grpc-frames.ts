// gRPC request bodies are a sequence of length-prefixed messages (1 byte
// compressed flag, 4 bytes big-endian length, the message). HTTP/2 DATA
// frames cut them anywhere, so bytes are collected here until whole
// messages are in hand: each message is scanned, and forwarded, as a unit.
export interface GrpcMessage {
  compressed: boolean;
  /** The message bytes as sent (still compressed when `compressed`). */
  payload: Buffer;
}

export const GRPC_PREFIX_BYTES = 5;

export class GrpcFrameReader {
  private pending: Buffer[] = [];
  private pendingBytes = 0;

  /** `maxMessageBytes` bounds what is held for one message: a larger one cannot be inspected. */
  constructor(private readonly maxMessageBytes: number) {}

  /** Bytes held that do not yet form a whole message (non-zero at end of stream = truncated body). */
  get partialBytes(): number {
    return this.pendingBytes;
  }

  /** Add bytes; returns the messages they completed, or 'too_large' once a declared length exceeds the bound. */
  push(chunk: Buffer): GrpcMessage[] | 'too_large' {
    this.pending.push(chunk);
    this.pendingBytes += chunk.length;
    const messages: GrpcMessage[] = [];
    while (this.pendingBytes >= GRPC_PREFIX_BYTES) {
      const buf = this.flatten();
      const length = buf.readUInt32BE(1);
      if (length > this.maxMessageBytes) return 'too_large';
      if (buf.length < GRPC_PREFIX_BYTES + length) break;
      messages.push({ compressed: buf[0] !== 0, payload: buf.subarray(GRPC_PREFIX_BYTES, GRPC_PREFIX_BYTES + length) });
      const rest = buf.subarray(GRPC_PREFIX_BYTES + length);
      this.pending = rest.length > 0 ? [rest] : [];
      this.pendingBytes = rest.length;
    }
    return messages;
  }

  /** Hand over whatever is held (switching to unscanned pass-through); the reader is empty after. */
  takeHeld(): Buffer {
    const held = this.pending.length === 0 ? Buffer.alloc(0) : this.flatten();
    this.pending = [];
    this.pendingBytes = 0;
    return held;
  }

  private flatten(): Buffer {
    if (this.pending.length > 1) this.pending = [Buffer.concat(this.pending, this.pendingBytes)];
    return this.pending[0]!;
  }
}

/** A message framed for the wire again (after redaction its length may differ). */
export function frameGrpcMessage(message: GrpcMessage): Buffer {
  const prefix = Buffer.alloc(GRPC_PREFIX_BYTES);
  prefix[0] = message.compressed ? 1 : 0;
  prefix.writeUInt32BE(message.payload.length, 1);
  return Buffer.concat([prefix, message.payload]);
}
