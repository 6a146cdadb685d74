// The client-to-server half of an inspected WebSocket: frames are held until
// the message they belong to is complete (fragments reassembled, RFC 6455
// §5.4), the whole message is judged, and only then are its frames forwarded
// (unchanged, or re-framed as one frame when redacted). Nothing of a message
// reaches the upstream before all of it was scanned. Control frames are small
// (≤125 bytes) and judged on their own, between fragments if need be.
//
// permessage-deflate is never negotiated (the relay removes the offer), so a
// frame with RSV1 set is a protocol error here, not compressed data.
import { ClientFrameParser, OPCODE, type ClientFrame } from './frame-parser';
import { WebSocketProtocolError } from './errors';
import { clientDataFrame } from './frames';

export type MessageKind = 'text' | 'binary' | 'close' | 'ping' | 'pong';

export type MessageVerdict =
  | { action: 'forward' }
  | { action: 'replace'; payload: Buffer }
  | { action: 'close'; code: number; reason: string };

export interface MessageGateOptions {
  /** Largest message (all fragments) inspected; a larger one closes with 1009. */
  maxMessageBytes: number;
  inspect(payload: Buffer, kind: MessageKind): MessageVerdict;
  forward(bytes: Buffer): void;
  /** The gate stopped: the caller closes the client with `code` and the upstream. */
  close(code: number, reason: string): void;
}

const KIND: Readonly<Record<number, MessageKind>> = {
  [OPCODE.text]: 'text',
  [OPCODE.binary]: 'binary',
  [OPCODE.close]: 'close',
  [OPCODE.ping]: 'ping',
  [OPCODE.pong]: 'pong',
};

export class ClientMessageGate {
  private readonly parser: ClientFrameParser;
  private message: { opcode: number; frames: ClientFrame[]; bytes: number } | undefined;
  private stopped = false;

  constructor(private readonly opts: MessageGateOptions) {
    this.parser = new ClientFrameParser(opts.maxMessageBytes);
  }

  get closed(): boolean {
    return this.stopped;
  }

  write(chunk: Buffer): void {
    if (this.stopped) return;
    let frames: ClientFrame[];
    try {
      frames = this.parser.push(chunk);
    } catch (err) {
      if (!(err instanceof WebSocketProtocolError)) throw err;
      this.stop(err.closeCode, err.message);
      return;
    }
    for (const frame of frames) {
      if (this.stopped) return;
      this.onFrame(frame);
    }
  }

  private onFrame(frame: ClientFrame): void {
    if (frame.rsv !== 0) {
      this.stop(1002, 'reserved bits set: no extension (permessage-deflate included) was negotiated');
      return;
    }
    if (frame.opcode >= 0x8) {
      this.judge(frame.payload, KIND[frame.opcode]!, [frame], frame.opcode);
      return;
    }
    if (frame.opcode === OPCODE.continuation) {
      if (this.message === undefined) {
        this.stop(1002, 'continuation frame without a message to continue');
        return;
      }
    } else {
      if (this.message !== undefined) {
        this.stop(1002, 'new data frame before the fragmented message ended');
        return;
      }
      this.message = { opcode: frame.opcode, frames: [], bytes: 0 };
    }
    const message = this.message!;
    message.frames.push(frame);
    message.bytes += frame.payload.length;
    if (message.bytes > this.opts.maxMessageBytes) {
      this.stop(1009, `message larger than the inspection limit (${this.opts.maxMessageBytes} bytes)`);
      return;
    }
    if (!frame.fin) return;
    this.message = undefined;
    const payload = message.frames.length === 1 ? frame.payload : Buffer.concat(message.frames.map((f) => f.payload), message.bytes);
    this.judge(payload, KIND[message.opcode]!, message.frames, message.opcode);
  }

  private judge(payload: Buffer, kind: MessageKind, frames: ClientFrame[], opcode: number): void {
    const verdict = this.opts.inspect(payload, kind);
    switch (verdict.action) {
      case 'forward':
        this.opts.forward(frames.length === 1 ? frames[0]!.raw : Buffer.concat(frames.map((f) => f.raw)));
        return;
      case 'replace':
        this.opts.forward(clientDataFrame(opcode, verdict.payload));
        return;
      case 'close':
        this.stop(verdict.code, verdict.reason);
    }
  }

  private stop(code: number, reason: string): void {
    if (this.stopped) return;
    this.stopped = true;
    this.message = undefined;
    this.opts.close(code, reason);
  }
}
