import { EventEmitter } from 'node:events';
import type { OutgoingHttpHeaders, ServerResponse } from 'node:http';
import { ANTHROPIC_DIALECT, OPENAI_DIALECT } from '../../upstream/answer-dialect.js';
import type { AnswerWriter } from '../../upstream/attempt.js';
import { chatToMessage, type AnswerNames } from '../../translate/anthropic-to-openai.js';
import { ChatStreamToMessages, messageAsEvents } from '../../translate/openai-stream-to-anthropic.js';
import type { ProxiedRequest } from '../../validation/request-fields.js';
import type { Ingress } from './ingress.js';
import { upstreamBodies } from './openai-ingress.js';

/** Client headers a native Anthropic backend gets as they came: the beta features the client turned on. */
const PASSED_HEADERS = ['anthropic-beta'] as const;

/**
 * Anthropic's Messages API in. To a `kind: anthropic` backend the request passes through untranslated (the client's
 * bytes with the deployment's model id, its `anthropic-beta` header) and the answer comes back as it was sent. To an
 * OpenAI-compatible backend the request goes as its Chat translation (validation made it: `proxied.body`), with stream
 * usage asked for so that `message_delta` can carry it, and the answer is translated back on its way to the client.
 */
const shapeMessages: Ingress = (proxied, raw, headers) => {
  const messages = proxied.messages;
  if (messages === undefined) throw new Error('a Messages request without its Messages body');
  const nativeBody = upstreamBodies(messages as unknown as Record<string, unknown>, raw);
  // `metadata` is there for routing rules only: Chat's `user` carries its user_id (translate/anthropic-to-openai.ts).
  const { metadata: _metadata, ...chat } = proxied.body;
  const chatBody = upstreamBodies(chat, undefined);
  const passed: Record<string, string> = {};
  for (const name of PASSED_HEADERS) {
    const value = headers[name];
    if (value !== undefined) passed[name] = Array.isArray(value) ? value.join(',') : value;
  }
  return (backend, deployment) => {
    if (backend.kind === 'anthropic') {
      return { operation: 'messages', body: nativeBody(deployment, false), dropUsageOnlyChunk: false, dialect: ANTHROPIC_DIALECT, headers: passed, writer: (response) => response };
    }
    const askForUsage = proxied.stream && backend.requestStreamUsage;
    return {
      operation: 'chat/completions',
      body: chatBody(deployment, askForUsage),
      // The usage chunk is read by the translation (message_delta's usage), never forwarded as it is.
      dropUsageOnlyChunk: false,
      dialect: OPENAI_DIALECT,
      writer: (response) => new MessagesAnswerWriter(response, { model: proxied.model, requestId: requestIdOf(response) }, proxied.stream),
    };
  };
};

export const messagesIngress: Ingress = Object.assign(shapeMessages, {
  protocol: 'anthropic.messages',
  translatedWriter: (response: ServerResponse, proxied: ProxiedRequest) => new MessagesAnswerWriter(response, { model: proxied.model, requestId: requestIdOf(response) }, proxied.stream),
});

function requestIdOf(response: ServerResponse): string {
  const id = response.getHeader('x-request-id');
  return typeof id === 'string' ? id.replace(/[^A-Za-z0-9_-]/g, '').slice(0, 64) || 'gateway' : 'gateway';
}

/**
 * The client's response as an attempt to an OpenAI-compatible backend writes it: what the attempt writes in Chat
 * Completions (a whole answer, or stream events and its end or error event) goes out as Messages. A stream is
 * translated as it passes (ChatStreamToMessages keeps one unfinished event and one block's state); a whole answer,
 * already read into memory by the attempt, is translated at its end.
 */
export class MessagesAnswerWriter extends EventEmitter implements AnswerWriter {
  private stream: ChatStreamToMessages | undefined;
  private head: { status: number; headers: OutgoingHttpHeaders } | undefined;
  private readonly relayDrain = (): void => {
    this.emit('drain');
  };

  constructor(
    private readonly response: ServerResponse,
    private readonly names: AnswerNames,
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
      this.stream = new ChatStreamToMessages(this.names);
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
    const message = chatToMessage(JSON.parse(String(chunk ?? '')), this.names);
    const body = Buffer.from(this.streamed ? messageAsEvents(message) : JSON.stringify(message));
    const contentType = this.streamed ? 'text/event-stream; charset=utf-8' : 'application/json';
    this.response.writeHead(this.head.status, { ...this.head.headers, 'content-type': contentType, 'content-length': String(body.length) });
    this.response.end(body);
    return this;
  }
}
