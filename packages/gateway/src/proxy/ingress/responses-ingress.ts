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
import { RequestContext } from '../../request/request-context.js';
import type { ProxiedRequest } from '../../validation/request-fields.js';
import type { Ingress } from './ingress.js';
import { upstreamBodies } from './openai-ingress.js';
import type { ResponseObject } from '../../translate/responses-types.js';
import { responsesTurnOf } from './responses-state.js';
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
  // With `previous_response_id` the gateway continued the conversation itself (its `input` holds it, and the client's
  // bytes are gone): the backend must not look the id up in its own store.
  const { previous_response_id: continued, ...native } = request;
  const nativeBody = upstreamBodies(native as unknown as Record<string, unknown>, continued ? undefined : raw);
  // `metadata` is there for routing rules (and the Response repeats it); a Chat backend does not get it.
  const { metadata: _metadata, ...chat } = proxied.body;
  const chatBody = upstreamBodies(chat, undefined);
  // One id and time for the request, whichever attempt answers: a client sees one Response.
  const createdAt = Math.floor(Date.now() / 1000);
  const names = responseNames(proxied, createdAt);
  return (backend, deployment) => {
    // A finished answer is kept (store: true) as it goes out, as served by this attempt's deployment.
    const keep = (response: ServerResponse) => (finished: ResponseObject) => responsesTurnOf(response)?.completed(finished, deployment.id);
    const writer = (response: ServerResponse): TranslatingAnswerWriter => new TranslatingAnswerWriter(response, responsesProtocol(names, keep(response)), proxied.stream);
    if (backend.kind === 'openai' && backend.api === 'responses') {
      // Passed through: the dialect reads the finished Response as the answer passes (no writer in between).
      let client: ServerResponse | undefined;
      const dialect = responsesDialect((finished) => (client ? responsesTurnOf(client)?.completed(finished, deployment.id) : undefined));
      const passThrough = (response: ServerResponse): ServerResponse => (client = response);
      return { operation: 'responses', body: nativeBody(deployment, false), dropUsageOnlyChunk: false, dialect, writer: passThrough };
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
  // A cached Chat answer replayed to a Responses client (cache/cache-ticket.ts): a Response of its own id and time,
  // kept (store: true) as served by the deployment that made the cached answer, so that it can be continued.
  translatedWriter: (response: ServerResponse, proxied: ProxiedRequest) => {
    const keep = (finished: ResponseObject): void => responsesTurnOf(response)?.completed(finished, servedBy(response));
    return new TranslatingAnswerWriter(response, responsesProtocol(responseNames(proxied, Math.floor(Date.now() / 1000)), keep), proxied.stream);
  },
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

/** The deployment a cache hit's answer was made by (the request's context says it: servedFromCache). */
function servedBy(response: ServerResponse): string {
  const context = (response as ServerResponse & { locals?: Record<string, unknown> }).locals?.context;
  return context instanceof RequestContext ? (context.outcome.deployment ?? '') : '';
}

/**
 * Responses made from Chat Completions (translate/chat-stream-to-responses.ts, translate/responses-to-chat.ts);
 * `onFinished` is told each finished Response before it goes out.
 */
export function responsesProtocol(names: ResponseNames, onFinished?: (response: ResponseObject) => void): AnswerProtocol {
  return {
    stream: () => new ChatStreamToResponses(names, onFinished),
    whole: (completion, streamed) => {
      if (streamed) return completionAsEvents(completion, names, onFinished);
      const response = chatToResponse(completion, names);
      onFinished?.(response);
      return JSON.stringify(response);
    },
  };
}
