import { createServer as createHttpServer, type RequestListener, type ServerOptions } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import { createSecureServer, createServer as createHttp2Server } from 'node:http2';
import { createServer as createNetServer, type Server, type Socket } from 'node:net';

/** What a client sends first on an HTTP/2 connection without TLS (RFC 9113 §3.4). */
const HTTP2_PREFACE = Buffer.from('PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n', 'latin1');

/** The listening server and a way to drop every connection it holds, busy or idle. */
export interface SimulatorServer {
  readonly server: Server;
  closeAllConnections(): void;
}

/**
 * The simulator's listener: node:http alone, or with `http2` a TCP server that reads each connection's first bytes
 * and hands it to node:http2 (h2c with prior knowledge) when they are the HTTP/2 preface, to node:http otherwise.
 * Both call the same request listener (node:http2's compatibility API has the same request and response surface).
 */
export function createSimulatorServer(options: ServerOptions, listener: RequestListener, http2: boolean, tls?: TlsPair): SimulatorServer {
  if (tls !== undefined) return createTlsServer(options, listener, http2, tls);
  const http1 = createHttpServer(options, listener);
  if (!http2) return { server: http1, closeAllConnections: () => http1.closeAllConnections() };

  // No limit of the server's own on concurrent streams per connection: like node:http's maxConnections, unset.
  const h2 = createHttp2Server({}, listener as unknown as Parameters<typeof createHttp2Server>[1]);
  // node:http tracks only the connections of a server that listens itself: every socket is tracked here.
  const sockets = new Set<Socket>();
  const server = createNetServer((socket: Socket) => {
    sockets.add(socket);
    socket.once('close', () => sockets.delete(socket));
    let head: Buffer | undefined;
    const onData = (chunk: Buffer): void => {
      head = head === undefined ? chunk : Buffer.concat([head, chunk]);
      const compared = Math.min(head.length, HTTP2_PREFACE.length);
      const isHttp2 = head.subarray(0, compared).equals(HTTP2_PREFACE.subarray(0, compared));
      if (isHttp2 && head.length < HTTP2_PREFACE.length) return;
      socket.off('data', onData);
      if (isHttp2) {
        // node:http2 reads what is buffered on the socket before its handle.
        socket.pause();
        socket.unshift(head);
        h2.emit('connection', socket);
      } else {
        // node:http reads from the socket's handle directly: what was read already is given to its data listener.
        http1.emit('connection', socket);
        socket.emit('data', head);
      }
    };
    socket.on('data', onData);
  });
  return {
    server,
    closeAllConnections: () => {
      for (const socket of sockets) socket.destroy();
    },
  };
}

/** A certificate chain and its private key, PEM. */
export interface TlsPair {
  readonly cert: string;
  readonly key: string;
}

/**
 * HTTPS: node:https alone, or with `http2` node:http2's secure server offering h2 and http/1.1 in ALPN
 * (`allowHTTP1`), each connection speaking what its client chose; its HTTP/1.1 connections get `options`' timeouts.
 */
function createTlsServer(options: ServerOptions, listener: RequestListener, http2: boolean, tls: TlsPair): SimulatorServer {
  if (!http2) {
    const https = createHttpsServer({ ...options, ...tls }, listener);
    return { server: https, closeAllConnections: () => https.closeAllConnections() };
  }
  const secure = createSecureServer({ ...tls, allowHTTP1: true }, listener as unknown as Parameters<typeof createSecureServer>[1]);
  // node:http2 serves its HTTP/1.1 fallback with node:http's connection listener, which reads these from the server.
  Object.assign(secure, { requestTimeout: options.requestTimeout, headersTimeout: options.headersTimeout, keepAliveTimeout: options.keepAliveTimeout });
  const sockets = new Set<Socket>();
  secure.on('secureConnection', (socket: Socket) => {
    sockets.add(socket);
    socket.once('close', () => sockets.delete(socket));
  });
  return {
    server: secure,
    closeAllConnections: () => {
      for (const socket of sockets) socket.destroy();
    },
  };
}
