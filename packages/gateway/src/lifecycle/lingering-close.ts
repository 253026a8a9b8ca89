import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';

/** `server.lingeringClose`: how long, and how many bytes, a refused connection is read before it is closed. */
export interface LingeringCloseSettings {
  readonly timeoutMs: number;
  readonly maxBytes: number;
}

/**
 * Closes a connection the way nginx's lingering close does. The answer is flushed and our side shut (FIN); what the
 * client still sends is read and dropped; the socket is destroyed when the client closes its side, when more than
 * `maxBytes` came, or after `timeoutMs`, whichever is first. Closing at once instead, with unread bytes in the
 * receive buffer, makes the kernel send a reset, and a client still uploading its body reports that reset as a
 * connection error (the openai SDK then retries) instead of reading the answer that was sent.
 */
export function lingerThenClose(socket: Duplex, settings: LingeringCloseSettings): void {
  if (socket.destroyed) return;
  watchLinger(socket, settings, true);
  if (socket.writable) socket.end();
  socket.resume();
}

/**
 * Bounds what a connection reads from now on: past `maxBytes` or `timeoutMs` the socket is destroyed. With
 * `untilClientCloses`, the client closing its side also ends it. Returns a function that stops the watch.
 */
function watchLinger(socket: Duplex, { timeoutMs, maxBytes }: LingeringCloseSettings, untilClientCloses: boolean): () => void {
  let received = 0;
  const close = (): void => {
    socket.destroy();
  };
  const timer = setTimeout(close, timeoutMs);
  const onData = (chunk: Buffer): void => {
    received += chunk.length;
    if (received > maxBytes) close();
  };
  const stop = (): void => {
    clearTimeout(timer);
    socket.off('data', onData);
    socket.off('end', close);
  };
  socket.on('data', onData);
  if (untilClientCloses) socket.once('end', close);
  socket.once('close', stop);
  return stop;
}

/**
 * Whether the request has a body that has not all arrived yet. A request without one counts as read even before
 * Node has marked it complete (which it does only after the first handlers ran).
 */
export function hasUnreadBody(request: IncomingMessage): boolean {
  if (request.complete) return false;
  const length = request.headers['content-length'];
  return request.headers['transfer-encoding'] !== undefined || (length !== undefined && length !== '0');
}

/**
 * Every answer given before its request's body was read to the end gets a bounded read of the rest. When the answer
 * closes the connection (`connection: close`, which every error answer sent early says), the close lingers as
 * above. When it keeps the connection, Node reads and drops the rest of the body so that the next request can
 * follow: that read is bounded too, or one client could make the gateway read a declared 100 GB body until
 * `requestTimeoutMs`.
 */
export function lingerOnUnreadBodies(server: Server, settings: LingeringCloseSettings): void {
  server.prependListener('request', (request: IncomingMessage, response: ServerResponse) => {
    // Before Node's own 'finish' handler, which closes the connection or dumps the rest of the body. Not a once
    // listener: a response finishes once, so the once wrapper and its removal from the front of the list were work
    // for nothing (in one profile of a fresh gateway, 365 ms of its first 1000 short streams in that removal).
    response.prependListener('finish', () => {
      if (!hasUnreadBody(request)) return;
      const socket = request.socket;
      const stopWatch = watchLinger(socket, settings, false);
      request.once('end', stopWatch);
      // Whatever still arrives is dropped, not buffered: a handler that stopped reading may have left it paused.
      request.removeAllListeners('data');
      request.resume();
      // Node ends a connection whose answer said `connection: close` with destroySoon(); this one lingers instead.
      socket.destroySoon = () => {
        stopWatch();
        lingerThenClose(socket, settings);
      };
    });
  });
}
