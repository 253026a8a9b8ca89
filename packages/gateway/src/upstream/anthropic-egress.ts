import type { Readable } from 'node:stream';
import type { Deployment } from '@dosrouter/shared';
import type { Message } from '../translate/anthropic-types.js';
import { AnthropicToChatStream } from '../translate/openai-to-anthropic-stream.js';
import { toAnthropicRequest, toChatCompletion } from '../translate/openai-to-anthropic.js';
import type { ProxiedRequest } from '../validation/request-fields.js';
import { translatedStream } from './translated-body.js';

/** `max_tokens` for a chat completion that sets none, when the deployment sets neither `anthropic.maxTokens` nor `maxOutputTokens`. */
export const DEFAULT_ANTHROPIC_MAX_TOKENS = 4_096;

const NO_CACHE = { system: false, tools: false } as const;

/** Turns a backend's answer into Chat Completions: a whole answer, or a stream's events as they come. */
export interface AnswerTranslation {
  /** The client's body; undefined when the backend's is not an answer of its protocol. */
  whole(body: Buffer): Buffer | undefined;
  stream(body: Readable): Readable;
}

/**
 * A chat completion for a deployment of a `kind: anthropic` backend: the Messages request to send and the
 * translation of its answer back. Throws a 400 GatewayError when the request says what Messages cannot.
 */
export function chatToAnthropic(
  proxied: ProxiedRequest,
  deployment: Deployment,
  /** End a stream with a usage chunk: the client asked for one, or the gateway did for itself (the relay drops it). */
  includeUsage: boolean,
  /** Seconds since the epoch: every chunk's and the answer's `created`. */
  created: number,
): { body: string; answer: AnswerTranslation } {
  const request = toAnthropicRequest(proxied.body, proxied.stream, {
    model: deployment.upstreamModel,
    defaultMaxTokens: deployment.anthropic?.maxTokens ?? deployment.maxOutputTokens ?? DEFAULT_ANTHROPIC_MAX_TOKENS,
    cache: deployment.anthropic?.cache ?? NO_CACHE,
  });
  return {
    body: JSON.stringify(request),
    answer: {
      whole: (body) => wholeAnswer(body, created),
      stream: (source) => translatedStream(source, new AnthropicToChatStream({ created, includeUsage })),
    },
  };
}

/** A Messages answer as a `chat.completion` body; undefined when it is not one. */
function wholeAnswer(body: Buffer, created: number): Buffer | undefined {
  let message: unknown;
  try {
    message = JSON.parse(body.toString('utf8'));
  } catch {
    return undefined;
  }
  if (typeof message !== 'object' || message === null || (message as { type?: unknown }).type !== 'message') return undefined;
  return Buffer.from(JSON.stringify(toChatCompletion(message as Message, created)), 'utf8');
}
