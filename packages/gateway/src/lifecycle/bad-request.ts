import { STATUS_CODES } from 'node:http';
import type { Duplex } from 'node:stream';
import { lingerThenClose, type LingeringCloseSettings } from './lingering-close.js';

/**
 * The server's `clientError` handler: malformed HTTP (400), oversized headers (431), a client too slow to send its
 * request (408). Answers if the socket still can, never crashes, and closes with the bounded lingering close: the
 * server allows half-open sockets, so ending our side alone would leave every such socket (and its file descriptor)
 * open until the client went away.
 */
export function answerBadRequest(error: NodeJS.ErrnoException, socket: Duplex, lingering: LingeringCloseSettings): void {
  // A failed TLS handshake has no HTTP to answer in; a reset or already-ended socket has no one to answer.
  if (!socket.writable || error.code === 'ECONNRESET' || error.code?.startsWith('ERR_SSL') === true) {
    socket.destroy();
    return;
  }
  const status = error.code === 'HPE_HEADER_OVERFLOW' ? 431 : error.code === 'ERR_HTTP_REQUEST_TIMEOUT' ? 408 : 400;
  const body = JSON.stringify({
    error: { message: `Bad HTTP request (${error.code ?? 'parse error'}).`, type: 'invalid_request_error', param: null, code: 'bad_http_request' },
  });
  // The HTTP parser is done with this connection: what the client still sends is only counted and dropped.
  socket.removeAllListeners('data');
  socket.write(
    `HTTP/1.1 ${status} ${STATUS_CODES[status]}\r\ncontent-type: application/json\r\ncontent-length: ${Buffer.byteLength(body)}\r\nconnection: close\r\n\r\n${body}`,
  );
  lingerThenClose(socket, lingering);
}
