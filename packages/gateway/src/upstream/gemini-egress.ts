import { randomBytes } from 'node:crypto';
import type { Deployment } from '@dosrouter/shared';
import type { GenerateContentResponse } from '../translate/gemini-types.js';
import { toGeminiRequest } from '../translate/openai-to-gemini.js';
import { geminiToChatCompletion } from '../translate/openai-to-gemini-answer.js';
import { GeminiToChatStream } from '../translate/openai-to-gemini-stream.js';
import type { ProxiedRequest } from '../validation/request-fields.js';
import type { AnswerTranslation } from './anthropic-egress.js';
import { translatedStream } from './translated-body.js';

/**
 * A chat completion for a deployment of a `kind: gemini` backend: the operation (`generateContent`, or
 * `streamGenerateContent` as server-sent events), the request to send and the translation of its answer back.
 * Throws a 400 GatewayError when the request says what Gemini cannot.
 */
export function chatToGemini(
  proxied: ProxiedRequest,
  deployment: Deployment,
  /** End a stream with a usage chunk: the client asked for one, or the gateway did for itself (the relay drops it). */
  includeUsage: boolean,
  /** Seconds since the epoch: every chunk's and the answer's `created`. */
  created: number,
): { operation: 'generateContent' | 'streamGenerateContent'; body: string; answer: AnswerTranslation } {
  const request = toGeminiRequest(proxied.body, { model: deployment.upstreamModel });
  // Gemini rarely names its function calls, nor does every answer carry a responseId: the gateway names them.
  const nonce = randomBytes(9).toString('base64url');
  const names = { id: `chatcmpl-${nonce}`, model: deployment.upstreamModel, callIdPrefix: `call_${nonce}` };
  return {
    operation: proxied.stream ? 'streamGenerateContent' : 'generateContent',
    body: JSON.stringify(request),
    answer: {
      whole: (body) => wholeAnswer(body, created, names),
      stream: (source) => translatedStream(source, new GeminiToChatStream({ created, includeUsage, ...names })),
    },
  };
}

/** A GenerateContentResponse as a `chat.completion` body; undefined when it is not one. */
function wholeAnswer(body: Buffer, created: number, names: { id: string; model: string; callIdPrefix: string }): Buffer | undefined {
  let answer: unknown;
  try {
    answer = JSON.parse(body.toString('utf8'));
  } catch {
    return undefined;
  }
  if (typeof answer !== 'object' || answer === null || Array.isArray(answer)) return undefined;
  const { candidates, promptFeedback } = answer as GenerateContentResponse;
  if (!Array.isArray(candidates) && promptFeedback === undefined) return undefined;
  return Buffer.from(JSON.stringify(geminiToChatCompletion(answer as GenerateContentResponse, created, names)), 'utf8');
}
