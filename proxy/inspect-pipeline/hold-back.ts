// Buffers the start of a body before anything is forwarded. Most bodies are
// small and end inside the window, so the proxy decides on the complete
// message and a block is a clean 403 with nothing sent upstream; a larger
// body is decided on its first window and streamed from there.
import type { Readable } from 'node:stream';
import { KdlpError } from '../errors/kdlp-error';

export interface HeldBody {
  chunks: Buffer[];
  bytes: number;
  /** The body ended inside the window: `chunks` is the whole message. */
  complete: boolean;
}

/** The client went away or sent a malformed body while we were buffering. */
export class BodyReadError extends KdlpError {
  readonly code = 'KDLP_BODY_READ_FAILED';
  constructor(cause: unknown) {
    super('request body could not be read (client aborted or sent malformed framing)', { cause });
  }
}

/**
 * Reads until more than `windowBytes` are buffered or the body ends. The
 * source is left paused with any further data unread, for the streaming
 * stage to take over. A body of exactly `windowBytes` ends inside the window
 * and is decided whole: stopping at the window's last byte would stream it,
 * and its block would be a late one.
 */
export function holdBack(source: Readable, windowBytes: number): Promise<HeldBody> {
  return new Promise<HeldBody>((resolve, reject) => {
    const held: HeldBody = { chunks: [], bytes: 0, complete: false };
    if (source.readableEnded) {
      resolve({ ...held, complete: true });
      return;
    }
    const cleanup = (): void => {
      source.off('data', onData);
      source.off('end', onEnd);
      source.off('error', onError);
      source.off('aborted', onAborted);
      source.off('close', onClose);
    };
    const onData = (chunk: Buffer): void => {
      held.chunks.push(chunk);
      held.bytes += chunk.length;
      if (held.bytes > windowBytes) {
        source.pause();
        cleanup();
        resolve(held);
      }
    };
    const onEnd = (): void => {
      cleanup();
      resolve({ ...held, complete: true });
    };
    const onError = (err: unknown): void => {
      cleanup();
      reject(new BodyReadError(err));
    };
    const onAborted = (): void => onError(new Error('aborted'));
    const onClose = (): void => {
      // 'close' before 'end' means the body never completed.
      if (!source.readableEnded) onError(new Error('closed'));
    };
    source.on('data', onData);
    source.once('end', onEnd);
    source.once('error', onError);
    source.once('aborted', onAborted);
    source.once('close', onClose);
    if (windowBytes <= 0) {
      source.pause();
      cleanup();
      resolve(held);
    }
  });
}
