// Requests that ask to switch protocols (`Connection: Upgrade`). WebSocket is
// relayed with its client messages inspected (websocket-exchange.ts). An
// offer of h2c alone never gets here: the server declines it and serves the
// request as HTTP/1.1 (proxy/http/h2c-upgrade.ts); h2c offered beside other
// protocols is refused, and any other protocol is refused too: after a
// switch the proxy would see only bytes it cannot read. Refusals are bad requests (counted by reason), and
// never echo the client's header values.
import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import { HTTP2_REFUSAL_REASON } from '../http/http2-refusal';
import { writeRawJson } from '../http/responses';
import type { BadRequestReason } from '../outcome/decision';
import type { RequestContext } from '../exchange/request-context';
import { handleWebSocketExchange, type WebSocketExchangeDeps } from './websocket-exchange';

export type UpgradeExchangeDeps = WebSocketExchangeDeps;

export async function handleUpgradeExchange(
  ctx: RequestContext,
  req: IncomingMessage,
  client: Duplex,
  head: Buffer,
  deps: UpgradeExchangeDeps,
  done: () => void,
): Promise<void> {
  const protocols = (req.headers.upgrade ?? '')
    .split(',')
    .map((p) => p.trim().toLowerCase().split('/')[0])
    .filter((p) => p !== '');
  if (protocols.includes('websocket')) {
    await handleWebSocketExchange(ctx, req, client, head, deps, done);
    return;
  }
  const refusal: { status: number; reason: BadRequestReason; message: string } = protocols.includes('h2c')
    ? { status: 505, reason: 'http2_cleartext', message: HTTP2_REFUSAL_REASON }
    : { status: 501, reason: 'unsupported_upgrade', message: 'only WebSocket upgrades are proxied: the switched protocol could not be inspected' };
  ctx.refusedAs = refusal.reason;
  deps.metrics.badRequest(refusal.reason);
  writeRawJson(client, refusal.status, { error: refusal.reason, requestId: ctx.id, reason: refusal.message }, { requestId: ctx.id });
  done();
}
