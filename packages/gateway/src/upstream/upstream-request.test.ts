import { once } from 'node:events';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Pool } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AttemptController, requestUpstream, type BodySink } from './upstream-request.js';

/** A sink that records what it was told. */
function recordingSink(): BodySink & { chunks: Buffer[]; ended: Promise<Error | undefined> } {
  const chunks: Buffer[] = [];
  let settle: (error: Error | undefined) => void = () => undefined;
  const ended = new Promise<Error | undefined>((resolve) => (settle = resolve));
  return { chunks, ended, data: (chunk) => chunks.push(chunk), end: () => settle(undefined), error: (error) => settle(error) };
}

describe('requestUpstream', () => {
  let server: Server;
  let pool: Pool;
  beforeAll(async () => {
    server = createServer((request, response) => {
      if (request.url === '/open') {
        response.writeHead(200, { 'content-type': 'text/event-stream' });
        response.write('data: {"a":1}\n\n');
        return; // never ends: the client's abort ends it
      }
      if (request.url === '/broken') {
        response.writeHead(200, { 'content-type': 'text/event-stream' });
        response.write('data: {"a":1}\n\n', () => response.destroy());
        return;
      }
      response.writeHead(201, { 'content-type': 'application/json', 'x-test': 'yes' });
      response.end('{"ok":true}');
    });
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    pool = new Pool(`http://127.0.0.1:${(server.address() as AddressInfo).port}`);
  });
  afterAll(async () => {
    await pool.destroy();
    server.closeAllConnections();
    server.close();
  });

  it('resolves with the status and headers, and reads the whole body', async () => {
    const response = await requestUpstream(pool, { path: '/', method: 'POST', body: '{}' }, new AbortController().signal);
    expect(response.statusCode).toBe(201);
    expect(response.headers['x-test']).toBe('yes');
    expect((await response.read(1024)).toString()).toBe('{"ok":true}');
  });

  it("lets go of undici's raw header lines once it has the parsed headers", async () => {
    const response = await requestUpstream(pool, { path: '/open', method: 'POST', body: '{}' }, new AbortController().signal);
    // The controller undici handed the response: it would keep the raw lines (views into the socket's first read).
    const { controller } = response as unknown as { controller: { rawHeaders?: unknown } };
    expect(controller.rawHeaders).toBeNull();
    expect(response.headers['content-type']).toBe('text/event-stream');
    response.abort(new Error('done'));
  });

  it('fails a read past its size limit', async () => {
    const response = await requestUpstream(pool, { path: '/', method: 'POST', body: '{}' }, new AbortController().signal);
    await expect(response.read(4)).rejects.toThrow(/larger than 4 bytes/);
  });

  it('rejects when the signal was aborted before any response', async () => {
    const controller = new AbortController();
    controller.abort(new Error('client gone'));
    await expect(requestUpstream(pool, { path: '/', method: 'POST', body: '{}' }, controller.signal)).rejects.toThrow('client gone');
  });

  it('tells the sink a connection lost mid-body as an error, even when it broke before the sink took the body', async () => {
    const response = await requestUpstream(pool, { path: '/broken', method: 'POST', body: '{}' }, new AbortController().signal);
    const sink = recordingSink();
    response.pipe(sink);
    expect(await sink.ended).toBeInstanceOf(Error);
    expect(Buffer.concat(sink.chunks).toString()).toBe('data: {"a":1}\n\n');
  });

  it('aborts a body being read when the signal fires, and tells the sink', async () => {
    const controller = new AbortController();
    const response = await requestUpstream(pool, { path: '/open', method: 'POST', body: '{}' }, controller.signal);
    const sink = recordingSink();
    response.pipe(sink);
    controller.abort(new Error('deadline passed'));
    expect(await sink.ended).toMatchObject({ message: 'deadline passed' });
  });

  it("an attempt's controller aborts a body being read and a request not yet answered, without the signal being read", async () => {
    const controller = new AttemptController();
    const response = await requestUpstream(pool, { path: '/open', method: 'POST', body: '{}' }, controller);
    const sink = recordingSink();
    response.pipe(sink);
    controller.abort(new Error('deadline passed'));
    expect(controller.aborted).toBe(true);
    expect(await sink.ended).toMatchObject({ message: 'deadline passed' });
    expect(controller.signal.reason).toMatchObject({ message: 'deadline passed' });

    const early = new AttemptController();
    early.abort(new Error('client gone'));
    await expect(requestUpstream(pool, { path: '/', method: 'POST', body: '{}' }, early)).rejects.toThrow('client gone');
  });
});
