import { once } from 'node:events';
import { createServer, request, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eventually, startHarness, type Harness } from './test-support/harness.js';

type Backends = { backends: Record<string, unknown>[] };

/** Events of this many content bytes each: enough of them fill every socket buffer between the backend and the client. */
const EVENT_TEXT = 'x'.repeat(16 * 1024);
const EVENTS = 1_500; // 24 MB

const event = (index: number, delta: Record<string, unknown>, finish: string | null = null): string =>
  `data: ${JSON.stringify({ id: 'c1', object: 'chat.completion.chunk', choices: [{ index: 0, delta, finish_reason: finish }], n: index })}\n\n`;

/** A backend that streams a long answer as fast as its socket takes it, and says when it has to wait. */
class FastBackend {
  readonly server: Server;
  waiting = false;
  written = 0;

  constructor() {
    this.server = createServer((incoming, response) => void this.answer(incoming, response));
  }

  get url(): string {
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}/v1`;
  }

  private async answer(incoming: IncomingMessage, response: ServerResponse): Promise<void> {
    for await (const _ of incoming) void _; // the request body
    response.writeHead(200, { 'content-type': 'text/event-stream' });
    response.write(event(0, { role: 'assistant', content: '' }));
    for (let index = 1; index <= EVENTS; index += 1) {
      this.written = index;
      if (!response.write(event(index, { content: EVENT_TEXT }))) {
        this.waiting = true;
        await once(response, 'drain');
        this.waiting = false;
      }
    }
    response.end(event(EVENTS + 1, {}, 'stop') + 'data: [DONE]\n\n');
  }
}

describe('a client that reads slower than the backend writes', () => {
  let harness: Harness;
  const backend = new FastBackend();
  beforeAll(async () => {
    backend.server.listen(0, '127.0.0.1');
    await once(backend.server, 'listening');
    harness = await startHarness({
      models: [{ id: 'sim-model' }],
      configure: (config) => {
        (config as Backends).backends.push({ name: 'fast', baseUrl: backend.url, models: [{ name: 'fast-model', capabilities: ['streaming'] }] });
      },
    });
  });
  afterAll(async () => {
    await harness?.close();
    backend.server.close();
  });

  it('holds the backend back while the client does not read, then relays every event intact and in order', async () => {
    const url = new URL(`${harness.gateway.url}/v1/chat/completions`);
    const body = JSON.stringify({ model: 'fast-model', stream: true, messages: [{ role: 'user', content: 'go' }] });
    const clientRequest = request({ host: url.hostname, port: url.port, path: url.pathname, method: 'POST', headers: { 'content-type': 'application/json', authorization: 'Bearer k' } });
    clientRequest.end(body);
    const [response] = (await once(clientRequest, 'response')) as [IncomingMessage];
    expect(response.statusCode).toBe(200);
    response.pause();
    // The client reads nothing: the backend has to wait with most of its answer unsent.
    await eventually(() => backend.waiting, 10_000, 'the backend waiting for its socket to drain');
    expect(backend.written).toBeLessThan(EVENTS);
    const chunks: Buffer[] = [];
    response.on('data', (chunk: Buffer) => chunks.push(chunk));
    response.resume();
    await once(response, 'end');
    const text = Buffer.concat(chunks).toString('utf8');
    const events = text.split('\n\n').filter((part) => part !== '');
    expect(events).toHaveLength(EVENTS + 3);
    const numbers = events.slice(0, -1).map((part) => (JSON.parse(part.slice('data: '.length)) as { n: number }).n);
    expect(numbers).toEqual(Array.from({ length: EVENTS + 2 }, (_, index) => index));
    expect(events.at(-1)).toBe('data: [DONE]');
    expect(text.split(EVENT_TEXT).length - 1).toBe(EVENTS);
  });
});
