import { EventEmitter } from 'node:events';
import type { OutgoingHttpHeaders, ServerResponse } from 'node:http';
import type { AnswerWriter } from '../../upstream/attempt.js';

/** How a client protocol's answer is made from Chat Completions: a stream event by event, a whole answer at once. */
export interface AnswerProtocol {
  /** A new translator of one Chat stream (server-sent events as text in, the protocol's events out). */
  stream(): { push(text: string): string };
  /** A whole Chat completion as the protocol's answer: a JSON body, or its events when the client asked for a stream. */
  whole(completion: unknown, streamed: boolean): string;
}

/**
 * The client's response as an attempt to an OpenAI-compatible backend writes it: what the attempt writes in Chat
 * Completions (a whole answer, or stream events and its end or error event) goes out in the client's protocol. A
 * stream is translated as it passes (the translator keeps one unfinished event and its own state); a whole answer,
 * already read into memory by the attempt, is translated at its end.
 */
export class TranslatingAnswerWriter extends EventEmitter implements AnswerWriter {
  private stream: { push(text: string): string } | undefined;
  private head: { status: number; headers: OutgoingHttpHeaders } | undefined;
  private readonly relayDrain = (): void => {
    this.emit('drain');
  };

  constructor(
    private readonly response: ServerResponse,
    private readonly protocol: AnswerProtocol,
    /** The client asked for a stream: a backend that answered whole is sent to it as events. */
    private readonly streamed: boolean,
  ) {
    super();
    response.on('drain', this.relayDrain);
  }

  get destroyed(): boolean {
    return this.response.destroyed;
  }

  writeHead(status: number, headers: OutgoingHttpHeaders): this {
    const contentType = String(headers['content-type'] ?? '');
    if (contentType.startsWith('text/event-stream')) {
      this.stream = this.protocol.stream();
      this.response.writeHead(status, headers);
    } else {
      this.head = { status, headers };
    }
    return this;
  }

  write(chunk: string | Buffer): boolean {
    const events = this.stream?.push(chunk.toString()) ?? '';
    return events === '' || this.response.write(events);
  }

  end(chunk?: string | Buffer): this {
    this.response.off('drain', this.relayDrain);
    if (this.stream) {
      const events = chunk === undefined ? '' : this.stream.push(chunk.toString());
      this.response.end(events);
      return this;
    }
    if (!this.head) throw new Error('the answer ended before its head');
    const body = Buffer.from(this.protocol.whole(JSON.parse(String(chunk ?? '')), this.streamed));
    const contentType = this.streamed ? 'text/event-stream; charset=utf-8' : 'application/json';
    this.response.writeHead(this.head.status, { ...this.head.headers, 'content-type': contentType, 'content-length': String(body.length) });
    this.response.end(body);
    return this;
  }
}

/** The gateway's request id as an answer's name: letters, digits, `_` and `-` of `x-request-id`. */
export function requestIdOf(response: ServerResponse): string {
  const id = response.getHeader('x-request-id');
  return typeof id === 'string' ? id.replace(/[^A-Za-z0-9_-]/g, '').slice(0, 64) || 'gateway' : 'gateway';
}
