// Responses the proxy itself authors (blocks, denials, upstream failures).
// Always JSON, always with a length, never echoing request content: bodies
// are built from ids, detector names and fixed reason strings only.
import type { ServerResponse } from 'node:http';
import { STATUS_CODES } from 'node:http';
import type { Duplex } from 'node:stream';

export const REQUEST_ID_HEADER = 'x-kubedlp-request-id';

export interface ProxyResponseOptions {
  requestId?: string;
  /** Close the client connection afterwards (request body left unread, or state unknown). */
  close?: boolean;
}

/** Send a JSON answer on a response that has not started yet; no-op once headers went out. */
export function sendJson(res: ServerResponse, status: number, body: object, opts: ProxyResponseOptions = {}): boolean {
  if (res.headersSent || res.writableEnded || res.destroyed) return false;
  const payload = Buffer.from(JSON.stringify(body));
  const headers: Record<string, string | number> = {
    'content-type': 'application/json',
    'content-length': payload.length,
    'cache-control': 'no-store',
  };
  if (opts.requestId !== undefined) headers[REQUEST_ID_HEADER] = opts.requestId;
  if (opts.close) headers.connection = 'close';
  res.writeHead(status, headers);
  res.end(payload);
  return true;
}

/** The same on a bare socket (parser errors, CONNECT), where no ServerResponse exists. */
export function writeRawJson(socket: Duplex, status: number, body: object | undefined, opts: ProxyResponseOptions = {}): void {
  if (!socket.writable) {
    socket.destroy();
    return;
  }
  const payload = body === undefined ? Buffer.alloc(0) : Buffer.from(JSON.stringify(body));
  let head = `HTTP/1.1 ${status} ${STATUS_CODES[status] ?? 'Error'}\r\n`;
  if (payload.length > 0) head += 'Content-Type: application/json\r\n';
  head += `Content-Length: ${payload.length}\r\n`;
  if (opts.requestId !== undefined) head += `${REQUEST_ID_HEADER}: ${opts.requestId}\r\n`;
  head += 'Connection: close\r\n\r\n';
  socket.end(Buffer.concat([Buffer.from(head, 'latin1'), payload]));
}
