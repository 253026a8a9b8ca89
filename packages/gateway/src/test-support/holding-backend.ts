import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

/**
 * An OpenAI-compatible backend that holds every chat request (POST) until the test releases it: what it holds at once is
 * exactly the concurrency the gateway sends it, whatever the machine's speed.
 */
export class HoldingBackend {
  readonly held: ServerResponse[] = [];
  /** The bodies of the requests received, in order of arrival. */
  readonly bodies: Record<string, unknown>[] = [];
  received = 0;
  /** The most requests it held at once. */
  mostHeld = 0;
  private readonly server: Server;

  constructor(private readonly model: string) {
    this.server = createServer((request: IncomingMessage, response: ServerResponse) => {
      // A health probe's model list is answered at once: only chat requests are held.
      if (request.method === 'GET') {
        response.writeHead(200, { 'content-type': 'application/json' });
        response.end(JSON.stringify({ object: 'list', data: [{ id: model, object: 'model' }] }));
        return;
      }
      const chunks: Buffer[] = [];
      request.on('data', (chunk: Buffer) => chunks.push(chunk));
      request.once('end', () => {
        this.received += 1;
        this.bodies.push(JSON.parse(Buffer.concat(chunks).toString('utf8')) as Record<string, unknown>);
        this.held.push(response);
        this.mostHeld = Math.max(this.mostHeld, this.held.length);
      });
    });
  }

  async listen(): Promise<string> {
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve));
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}/v1`;
  }

  /** Answers the `count` oldest held requests with a complete chat completion. */
  release(count = this.held.length): void {
    for (const response of this.held.splice(0, count)) {
      const body = JSON.stringify({
        id: 'chatcmpl-held',
        object: 'chat.completion',
        created: 1,
        model: this.model,
        choices: [{ index: 0, message: { role: 'assistant', content: 'released' }, finish_reason: 'stop' }],
        usage: { prompt_tokens: 3, completion_tokens: 1, total_tokens: 4 },
      });
      response.writeHead(200, { 'content-type': 'application/json', 'content-length': String(Buffer.byteLength(body)) });
      response.end(body);
    }
  }

  async close(): Promise<void> {
    this.release();
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}
