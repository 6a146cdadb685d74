// Errors of the WebSocket relay, each carrying the close code (RFC 6455
// §7.4.1) the client is sent.
import { KdlpError } from '../errors/kdlp-error';

/** The client broke the protocol (1002) or sent more than the proxy will inspect (1009). */
export class WebSocketProtocolError extends KdlpError {
  readonly code = 'KDLP_WEBSOCKET_PROTOCOL';
  constructor(
    readonly closeCode: 1002 | 1009,
    message: string,
  ) {
    super(message);
  }
}
