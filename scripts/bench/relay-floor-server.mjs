// A bare SSE relay, for the floor study of relay-floor.mjs: what a Node process pays per relayed event with nothing
// of the gateway around it. The client side is node:http in every mode (as in the gateway); the upstream side is:
//   undici  undici's dispatch handler API over HTTP/1.1 (the gateway's path, minus everything else)
//   raw     a net.Socket per stream read with the `onread` option (no Readable machinery), a hand-written HTTP/1.1
//           response-head and chunked decoder
//   h2      undici's dispatch over h2c (allowH2, prior knowledge), one connection carrying many streams
// Each backend chunk goes to the client's socket as one HTTP/1.1 chunk frame (size, CRLF, bytes, CRLF in one Buffer),
// after the head and first chunk went through ServerResponse (as the gateway's StreamRelay does).
//   node scripts/bench/relay-floor-server.mjs --mode undici|raw|h2 --upstream http://127.0.0.1:PORT
// Prints {"url": ...} once listening (scripts/bench/processes.mjs startServerProcess reads that).
import { createServer } from 'node:http';
import { createRequire } from 'node:module';
import { connect } from 'node:net';
import { parseArgs } from 'node:util';

const require = createRequire(new URL('../../packages/gateway/package.json', import.meta.url));
const { Pool, buildConnector } = require('undici');

const { values } = parseArgs({ options: { mode: { type: 'string', default: 'undici' }, upstream: { type: 'string' }, streams: { type: 'string', default: '100' } } });
const upstream = new URL(values.upstream);
const UPSTREAM_PATH = `${upstream.pathname.replace(/\/$/, '')}/chat/completions`;
const CRLF = Buffer.from('\r\n');

function chunkFrame(bytes) {
  const size = bytes.length.toString(16);
  const frame = Buffer.allocUnsafe(size.length + 2 + bytes.length + 2);
  frame.write(size, 0, 'latin1');
  CRLF.copy(frame, size.length);
  bytes.copy(frame, size.length + 2);
  CRLF.copy(frame, size.length + 2 + bytes.length);
  return frame;
}

/** Writes a stream's chunks to the client: the head and first chunk through `response`, later ones to the socket. */
class ClientWriter {
  constructor(response) {
    this.response = response;
    this.socket = undefined;
  }

  head(status) {
    this.response.writeHead(status, { 'content-type': 'text/event-stream; charset=utf-8', 'cache-control': 'no-cache' });
  }

  data(bytes) {
    if (this.socket === undefined) {
      this.response.write(bytes);
      this.socket = this.response.socket;
    } else if (!this.socket.destroyed && bytes.length > 0) {
      this.socket.write(chunkFrame(bytes));
    }
  }

  end() {
    this.response.end();
  }
}

function upstreamHeaders(request, body) {
  return {
    host: upstream.host,
    'content-type': 'application/json',
    'content-length': String(body.length),
    ...(request.headers.authorization ? { authorization: request.headers.authorization } : {}),
  };
}

const h2 = values.mode === 'h2';
const pool =
  values.mode === 'raw'
    ? undefined
    : new Pool(upstream.origin, {
        connections: null,
        keepAliveTimeout: 30_000,
        ...(h2
          ? {
              allowH2: true,
              maxConcurrentStreams: Number(values.streams),
              pipelining: Number(values.streams),
              connect: buildConnector({ allowH2: true, useH2c: true }),
            }
          : { pipelining: 1 }),
      });

function relayUndici(request, response, body) {
  const writer = new ClientWriter(response);
  pool.dispatch(
    { origin: upstream.origin, path: UPSTREAM_PATH, method: 'POST', headers: upstreamHeaders(request, body), body, idempotent: true },
    {
      onRequestStart() {},
      onResponseStart(controller, statusCode) {
        if (statusCode < 200) return;
        controller.rawHeaders = null;
        writer.head(statusCode);
      },
      onResponseData(_controller, chunk) {
        writer.data(chunk);
      },
      onResponseEnd() {
        writer.end();
      },
      onResponseError(_controller, error) {
        if (!response.headersSent) response.writeHead(502);
        response.destroy(error);
      },
    },
  );
}

const READ_BUFFER_SIZE = 64 * 1024;

/** HTTP/1.1 over a raw socket read with `onread`: the response head, then a chunked body decoded by hand. */
function relayRaw(request, response, body) {
  const writer = new ClientWriter(response);
  const headers = upstreamHeaders(request, body);
  let head = `POST ${UPSTREAM_PATH} HTTP/1.1\r\nconnection: close\r\n`;
  for (const [name, value] of Object.entries(headers)) head += `${name}: ${value}\r\n`;
  const requestBytes = Buffer.concat([Buffer.from(`${head}\r\n`, 'latin1'), body]);
  // Head state, then the chunked decoder's: SIZE (hex digits up to CRLF), DATA (`remaining` bytes), DATA_END (CRLF).
  let headBytes = Buffer.alloc(0);
  let inBody = false;
  let state = 0; // 0 size, 1 data, 2 CRLF after data, 3 done
  let size = 0;
  let remaining = 0;
  let crlfLeft = 0;
  let sizeLineDone = false;
  const SIZE = 0;
  const DATA = 1;
  const DATA_END = 2;
  const DONE = 3;

  const decode = (buffer, from, to) => {
    let at = from;
    while (at < to && state !== DONE) {
      if (state === SIZE) {
        const byte = buffer[at++];
        if (byte === 0x0a) {
          if (size === 0) {
            state = DONE;
            writer.end();
            socket.end();
            return;
          }
          remaining = size;
          state = DATA;
          sizeLineDone = false;
        } else if (!sizeLineDone) {
          const digit = byte <= 0x39 ? byte - 0x30 : (byte | 0x20) - 0x57;
          if (digit >= 0 && digit < 16) size = size * 16 + digit;
          else sizeLineDone = true; // CR or a chunk extension
        }
      } else if (state === DATA) {
        const take = Math.min(remaining, to - at);
        // The read buffer is reused: the frame copies the bytes out (one allocation, one copy, as chunkFrame).
        writer.data(buffer.subarray(at, at + take));
        at += take;
        remaining -= take;
        if (remaining === 0) {
          state = DATA_END;
          crlfLeft = 2;
        }
      } else {
        at += 1;
        crlfLeft -= 1;
        if (crlfLeft === 0) {
          state = SIZE;
          size = 0;
        }
      }
    }
  };

  const socket = connect({
    host: upstream.hostname,
    port: Number(upstream.port),
    onread: {
      buffer: Buffer.allocUnsafe(READ_BUFFER_SIZE),
      callback(bytesRead, buffer) {
        if (inBody) {
          decode(buffer, 0, bytesRead);
          return;
        }
        headBytes = Buffer.concat([headBytes, buffer.subarray(0, bytesRead)]);
        const end = headBytes.indexOf('\r\n\r\n');
        if (end === -1) return;
        const status = Number(headBytes.toString('latin1', 9, 12));
        inBody = true;
        writer.head(status);
        // The simulator streams chunked; the floor does not handle content-length bodies.
        decode(headBytes, end + 4, headBytes.length);
        headBytes = undefined;
      },
    },
  });
  socket.setNoDelay(true);
  socket.write(requestBytes);
  socket.on('error', (error) => response.destroy(error));
  response.on('close', () => socket.destroy());
}

const relay = values.mode === 'raw' ? relayRaw : relayUndici;

const server = createServer((request, response) => {
  if (request.method !== 'POST') {
    response.end('ok');
    return;
  }
  const chunks = [];
  request.on('data', (chunk) => chunks.push(chunk));
  request.on('end', () => relay(request, response, Buffer.concat(chunks)));
});
server.keepAliveTimeout = 65_000;
server.listen(0, '127.0.0.1', () => {
  const { port } = server.address();
  process.stdout.write(`${JSON.stringify({ msg: 'listening', url: `http://127.0.0.1:${port}`, mode: values.mode })}\n`);
});
process.on('SIGTERM', () => process.exit(0));
process.on('SIGINT', () => process.exit(0));
