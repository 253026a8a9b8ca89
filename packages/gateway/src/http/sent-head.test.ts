import { createServer, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import express, { type NextFunction, type Request, type Response } from 'express';
import { createLogger, GatewayError } from '@dosrouter/shared';
import { afterEach, describe, expect, it } from 'vitest';
import { errorHandler } from '../middleware/error-handler.js';
import { LogCapture } from '../test-support/harness.js';
import { keepOnlySentHead, sentContentType } from './sent-head.js';

let server: Server | undefined;

afterEach(async () => {
  await new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve()));
  server = undefined;
});

/** A server whose one answer is made by `answer`; resolves with what the client received. */
async function exchange(answer: (response: ServerResponse) => void): Promise<{ status: number; headers: Headers; body: string }> {
  server = createServer((_request, response) => answer(response));
  await new Promise<void>((resolve) => server!.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  const response = await fetch(`http://127.0.0.1:${port}/`);
  return { status: response.status, headers: response.headers, body: await response.text() };
}

describe('keepOnlySentHead', () => {
  it('lets the headers as set go once the head is sent; the answer goes on, and its content type is still known', async () => {
    const seen: Record<string, unknown> = {};
    const received = await exchange((response) => {
      response.setHeader('x-request-id', 'r-1');
      response.writeHead(200, { 'content-type': 'text/event-stream; charset=utf-8', 'cache-control': 'no-cache' });
      response.write('data: 1\n\n');
      seen.before = response.getHeader('content-type');
      keepOnlySentHead(response);
      seen.after = response.getHeader('x-request-id');
      seen.contentType = sentContentType(response);
      seen.names = response.getHeaderNames();
      response.end('data: [DONE]\n\n');
    });
    expect(received).toMatchObject({ status: 200, body: 'data: 1\n\ndata: [DONE]\n\n' });
    expect(received.headers.get('x-request-id')).toBe('r-1');
    expect(received.headers.get('content-type')).toBe('text/event-stream; charset=utf-8');
    expect(seen).toEqual({ before: 'text/event-stream; charset=utf-8', after: undefined, contentType: 'text/event-stream; charset=utf-8', names: [] });
  });

  it('does nothing before the head is sent', async () => {
    const received = await exchange((response) => {
      response.setHeader('content-type', 'application/json');
      keepOnlySentHead(response);
      expect(sentContentType(response)).toBe('application/json');
      response.end('{}');
    });
    expect(received).toMatchObject({ status: 200, body: '{}' });
    expect(received.headers.get('content-type')).toBe('application/json');
  });

  it('leaves the error handler what it needs to end a started chat stream with the error event, not a reset', async () => {
    const app = express();
    app.post('/v1/chat/completions', (_request: Request, response: Response, next: NextFunction) => {
      response.setHeader('x-request-id', 'r-2');
      response.writeHead(200, { 'content-type': 'text/event-stream; charset=utf-8' });
      response.write('data: {"choices":[]}\n\n');
      // As the relay does after its first write; then something fails before the stream's end (decision 0019's takeover).
      keepOnlySentHead(response);
      next(new GatewayError('The answer broke.', { status: 502, code: 'upstream_stream_interrupted', type: 'server_error' }));
    });
    app.use(errorHandler({ logger: createLogger({ level: 'warn', service: 'gateway', destination: new LogCapture() }) }));
    server = createServer(app);
    await new Promise<void>((resolve) => server!.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as AddressInfo;
    const response = await fetch(`http://127.0.0.1:${port}/v1/chat/completions`, { method: 'POST' });
    const body = await response.text();
    expect(body.startsWith('data: {"choices":[]}\n\ndata: {"error":')).toBe(true);
    expect(body).toContain('upstream_stream_interrupted');
  });
});
