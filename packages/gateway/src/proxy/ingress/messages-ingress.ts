import type { ServerResponse } from 'node:http';
import { ANTHROPIC_DIALECT, OPENAI_DIALECT } from '../../upstream/answer-dialect.js';
import { chatToResponsesApi } from '../../upstream/responses-egress.js';
import { chatToMessage, type AnswerNames } from '../../translate/anthropic-to-openai.js';
import { ChatStreamToMessages, messageAsEvents } from '../../translate/openai-stream-to-anthropic.js';
import { chatToGemini } from '../../upstream/gemini-egress.js';
import type { ProxiedRequest } from '../../validation/request-fields.js';
import type { Ingress } from './ingress.js';
import { upstreamBodies } from './openai-ingress.js';
import { TranslatingAnswerWriter, requestIdOf, type AnswerProtocol } from './translating-writer.js';

/** Client headers a native Anthropic backend gets as they came: the beta features the client turned on. */
const PASSED_HEADERS = ['anthropic-beta'] as const;

/**
 * Anthropic's Messages API in. To a `kind: anthropic` backend the request passes through untranslated (the client's
 * bytes with the deployment's model id, its `anthropic-beta` header) and the answer comes back as it was sent. To an
 * OpenAI-compatible backend the request goes as its Chat translation (validation made it: `proxied.body`), with stream
 * usage asked for so that `message_delta` can carry it, and the answer is translated back on its way to the client.
 * To a `kind: gemini` backend the Chat translation goes on to Gemini (upstream/gemini-egress.ts) and its answer comes
 * back through Chat Completions to Messages.
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
    const writer = (response: ServerResponse): TranslatingAnswerWriter =>
      new TranslatingAnswerWriter(response, messagesProtocol({ model: proxied.model, requestId: requestIdOf(response) }), proxied.stream);
    if (backend.kind === 'gemini') {
      // Its Chat translation goes on to Gemini; the usage chunk is read by the Messages translation, never forwarded.
      const translated = chatToGemini({ ...proxied, body: chat }, deployment, true, Math.floor(Date.now() / 1000));
      return { ...translated, dropUsageOnlyChunk: false, dialect: OPENAI_DIALECT, writer };
    }
    if (backend.kind === 'openai' && backend.api === 'responses') {
      // The Chat translation goes on to the Responses API; its answer comes back as Chat, then as Messages.
      const { body, answer } = chatToResponsesApi(chat, proxied.stream, deployment, true, Math.floor(Date.now() / 1000));
      return { operation: 'responses', body, dropUsageOnlyChunk: false, dialect: OPENAI_DIALECT, answer, writer };
    }
    const askForUsage = proxied.stream && backend.requestStreamUsage;
    return {
      operation: 'chat/completions',
      body: chatBody(deployment, askForUsage),
      // The usage chunk is read by the translation (message_delta's usage), never forwarded as it is.
      dropUsageOnlyChunk: false,
      dialect: OPENAI_DIALECT,
      writer,
    };
  };
};

export const messagesIngress: Ingress = Object.assign(shapeMessages, {
  protocol: 'anthropic.messages',
  passedHeaders: PASSED_HEADERS,
  // A cached Chat answer replayed to a Messages client (cache/cache-ticket.ts).
  translatedWriter: (response: ServerResponse, proxied: ProxiedRequest) =>
    new TranslatingAnswerWriter(response, messagesProtocol({ model: proxied.model, requestId: requestIdOf(response) }), proxied.stream),
});

/** Messages made from Chat Completions (translate/openai-stream-to-anthropic.ts, translate/anthropic-to-openai.ts). */
export function messagesProtocol(names: AnswerNames): AnswerProtocol {
  return {
    stream: () => new ChatStreamToMessages(names),
    whole: (completion, streamed) => {
      const message = chatToMessage(completion, names);
      return streamed ? messageAsEvents(message) : JSON.stringify(message);
    },
  };
}
