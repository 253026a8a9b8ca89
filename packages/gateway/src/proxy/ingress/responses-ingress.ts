import { randomBytes } from 'node:crypto';
import type { ServerResponse } from 'node:http';
import { GatewayError } from '@dosrouter/shared';
import { ChatStreamToResponses, completionAsEvents } from '../../translate/chat-stream-to-responses.js';
import { inResponsesTerms } from '../../translate/responses-param-names.js';
import { chatToResponse, type ResponseNames } from '../../translate/responses-to-chat.js';
import { OPENAI_DIALECT } from '../../upstream/answer-dialect.js';
import { chatToAnthropic } from '../../upstream/anthropic-egress.js';
import { chatToGemini } from '../../upstream/gemini-egress.js';
import { responsesDialect } from '../../upstream/responses-sse-scanner.js';
import type { ProxiedRequest } from '../../validation/request-fields.js';
import type { Ingress } from './ingress.js';
import { upstreamBodies } from './openai-ingress.js';
import { TranslatingAnswerWriter, type AnswerProtocol } from './translating-writer.js';

/**
 * OpenAI's Responses API in. To an `api: responses` deployment the request passes through untranslated (the client's
 * bytes with the deployment's model id) and the answer comes back as it was sent. To a Chat Completions deployment the
 * request goes as its Chat translation (validation made it: `proxied.body`), with stream usage asked for so that
 * `response.completed` carries it, and the answer is translated back on its way to the client; to a `kind:
 * anthropic` or `kind: gemini` deployment that Chat translation goes on to the backend's own API, as a chat
 * completion's does.
 */
const shapeResponses: Ingress = (proxied, raw) => {
  const request = proxied.responses;
  if (request === undefined) throw new Error('a Responses request without its Responses body');
  const nativeBody = upstreamBodies(request as unknown as Record<string, unknown>, raw);
  // `metadata` is there for routing rules (and the Response repeats it); a Chat backend does not get it.
  const { metadata: _metadata, ...chat } = proxied.body;
  const chatBody = upstreamBodies(chat, undefined);
  // One id and time for the request, whichever attempt answers: a client sees one Response.
  const createdAt = Math.floor(Date.now() / 1000);
  const names = responseNames(proxied, createdAt);
  const writer = (response: ServerResponse): TranslatingAnswerWriter => new TranslatingAnswerWriter(response, responsesProtocol(names), proxied.stream);
  return (backend, deployment) => {
    if (backend.kind === 'openai' && backend.api === 'responses') {
      return { operation: 'responses', body: nativeBody(deployment, false), dropUsageOnlyChunk: false, dialect: responsesDialect(), writer: (response) => response };
    }
    if (backend.kind === 'anthropic') {
      // Messages always reports usage: the stream's usage chunk is read by the translation, never forwarded.
      const { body, answer } = inResponsesFields(() => chatToAnthropic({ ...proxied, body: chat }, deployment, true, createdAt));
      return { operation: 'messages', body, dropUsageOnlyChunk: false, dialect: OPENAI_DIALECT, answer, writer };
    }
    if (backend.kind === 'gemini') {
      // The Chat translation goes on to Gemini, which always reports usage: read by the translation, never forwarded.
      const translated = inResponsesFields(() => chatToGemini({ ...proxied, body: chat }, deployment, true, createdAt));
      return { ...translated, dropUsageOnlyChunk: false, dialect: OPENAI_DIALECT, writer };
    }
    if (backend.kind !== 'openai') {
      throw new GatewayError(`The backend ${backend.name} speaks ${backend.kind}, which cannot serve Responses requests.`, { status: 400, code: 'unsupported_backend_kind' });
    }
    return {
      operation: 'chat/completions',
      body: chatBody(deployment, proxied.stream && backend.requestStreamUsage),
      // The usage chunk is read by the translation (response.completed's usage), never forwarded as it is.
      dropUsageOnlyChunk: false,
      dialect: OPENAI_DIALECT,
      writer,
    };
  };
};

export const responsesIngress: Ingress = Object.assign(shapeResponses, {
  protocol: 'openai.responses',
  // A cached Chat answer replayed to a Responses client (cache/cache-ticket.ts), as a Response of its own id and time.
  translatedWriter: (response: ServerResponse, proxied: ProxiedRequest) =>
    new TranslatingAnswerWriter(response, responsesProtocol(responseNames(proxied, Math.floor(Date.now() / 1000))), proxied.stream),
});

/** A translation to a backend's own API whose refusal names the Responses request's fields, not the Chat ones. */
function inResponsesFields<T>(translate: () => T): T {
  try {
    return translate();
  } catch (error) {
    throw inResponsesTerms(error);
  }
}

/** One Response's id, model, time and request: one per request, whichever attempt answers (or the cache). */
function responseNames(proxied: ProxiedRequest, createdAt: number): ResponseNames {
  const request = proxied.responses;
  if (request === undefined) throw new Error('a Responses request without its Responses body');
  return { id: `resp_${randomBytes(16).toString('hex')}`, model: proxied.model, createdAt, request };
}

/** Responses made from Chat Completions (translate/chat-stream-to-responses.ts, translate/responses-to-chat.ts). */
export function responsesProtocol(names: ResponseNames): AnswerProtocol {
  return {
    stream: () => new ChatStreamToResponses(names),
    whole: (completion, streamed) => (streamed ? completionAsEvents(completion, names) : JSON.stringify(chatToResponse(completion, names))),
  };
}
