// gRPC request bodies are a sequence of length-prefixed messages (1 byte
// compressed flag, 4 bytes big-endian length, the message). HTTP/2 DATA
// frames cut them anywhere, so bytes are collected here until whole
// messages are in hand: each message is scanned, and forwarded, as a unit.
// What cannot be framed (a flag other than 0/1, a length over the bound, a
// body that stops inside a message) is reported as an Uninspectable with a
// stable code, never by echoing the bytes.
import type { Uninspectable } from '../inspect-pipeline/verdict';

export interface GrpcMessage {
  compressed: boolean;
  /** The message bytes as sent (still compressed when `compressed`). */
  payload: Buffer;
}

export const GRPC_PREFIX_BYTES = 5;

/**
 * What one push yields: the whole messages it completed and, when framing
 * stopped after them, why (the bytes from the bad prefix on stay held).
 */
export interface GrpcPush {
  messages: GrpcMessage[];
  problem?: Uninspectable;
}

export class GrpcFrameReader {
  private pending: Buffer[] = [];
  private pendingBytes = 0;
  /** Once set, the stream is not framed any further: every later push reports it again. */
  private failed?: Uninspectable;

  /** `maxMessageBytes` bounds what is held for one message: a larger one cannot be inspected. */
  constructor(private readonly maxMessageBytes: number) {}

  /** Bytes held that do not yet form a whole message. */
  get partialBytes(): number {
    return this.pendingBytes;
  }

  /** Add bytes; returns the whole messages they completed, and the problem that stops framing if one did. */
  push(chunk: Buffer): GrpcPush {
    if (chunk.length > 0) {
      this.pending.push(chunk);
      this.pendingBytes += chunk.length;
    }
    // Stopped: later bytes are held with the rest, for takeHeld (pass-through) to hand over.
    if (this.failed) return { messages: [], problem: this.failed };
    const messages: GrpcMessage[] = [];
    while (this.pendingBytes >= GRPC_PREFIX_BYTES) {
      const prefix = this.peek(GRPC_PREFIX_BYTES);
      const flag = prefix[0]!;
      if (flag > 1) {
        // The spec defines 0 and 1 only; anything else is not gRPC and its bytes cannot be trusted to mean what they say.
        this.failed = { code: 'KDLP_GRPC_MALFORMED', reason: `gRPC message prefix has compressed-flag ${flag} (only 0 and 1 are defined)` };
        break;
      }
      const length = prefix.readUInt32BE(1);
      if (length > this.maxMessageBytes) {
        this.failed = { code: 'KDLP_BODY_TOO_LARGE', reason: `a gRPC message of ${length} bytes exceeds maxBodyBytes (${this.maxMessageBytes})` };
        break;
      }
      // Wait for the whole message before copying: one concat per message, not one per chunk.
      if (this.pendingBytes < GRPC_PREFIX_BYTES + length) break;
      const buf = this.flatten();
      messages.push({ compressed: flag === 1, payload: buf.subarray(GRPC_PREFIX_BYTES, GRPC_PREFIX_BYTES + length) });
      const rest = buf.subarray(GRPC_PREFIX_BYTES + length);
      this.pending = rest.length > 0 ? [rest] : [];
      this.pendingBytes = rest.length;
    }
    return this.failed ? { messages, problem: this.failed } : { messages };
  }

  /** At the end of the body: why it cannot be forwarded whole (it stopped inside a message), or undefined. */
  end(): Uninspectable | undefined {
    if (this.failed || this.pendingBytes === 0) return this.failed;
    return { code: 'KDLP_GRPC_TRUNCATED', reason: `gRPC request ended inside a message (${this.pendingBytes} bytes held back, never forwarded)` };
  }

  /** Hand over whatever is held (switching to unscanned pass-through); the reader is empty after. */
  takeHeld(): Buffer {
    const held = this.pending.length === 0 ? Buffer.alloc(0) : this.flatten();
    this.pending = [];
    this.pendingBytes = 0;
    return held;
  }

  /** The first `n` held bytes (n ≤ pendingBytes), copying only when they straddle chunks. */
  private peek(n: number): Buffer {
    const first = this.pending[0]!;
    if (first.length >= n) return first;
    return this.flatten().subarray(0, n);
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

/**
 * Follows the message boundaries of a gRPC byte stream without holding any
 * of it: used on responses, which are relayed as they come, to know whether
 * the client has been sent whole messages only (so a status can still end
 * the stream cleanly) or is inside one.
 */
export class GrpcBoundaryTracker {
  /** Prefix bytes still to come of the current message (0 once the prefix is complete). */
  private prefixLeft = GRPC_PREFIX_BYTES;
  private readonly prefix = Buffer.alloc(GRPC_PREFIX_BYTES);
  /** Payload bytes still to come of the current message. */
  private payloadLeft = 0;

  /** Between two messages (or before the first): nothing of a message is half sent. */
  get atBoundary(): boolean {
    return this.prefixLeft === GRPC_PREFIX_BYTES && this.payloadLeft === 0;
  }

  feed(chunk: Buffer): void {
    let at = 0;
    while (at < chunk.length) {
      if (this.prefixLeft > 0) {
        const take = Math.min(this.prefixLeft, chunk.length - at);
        chunk.copy(this.prefix, GRPC_PREFIX_BYTES - this.prefixLeft, at, at + take);
        this.prefixLeft -= take;
        at += take;
        if (this.prefixLeft === 0) {
          this.payloadLeft = this.prefix.readUInt32BE(1);
          // A message with an empty payload ends with its prefix.
          if (this.payloadLeft === 0) this.prefixLeft = GRPC_PREFIX_BYTES;
        }
        continue;
      }
      const take = Math.min(this.payloadLeft, chunk.length - at);
      this.payloadLeft -= take;
      at += take;
      if (this.payloadLeft === 0) this.prefixLeft = GRPC_PREFIX_BYTES;
    }
  }
}
