import type { Deployment } from '@dosrouter/shared';
import { responseToChatCompletion, toResponsesRequest } from '../translate/chat-to-responses.js';
import { ResponsesToChatStream } from '../translate/responses-stream-to-chat.js';
import type { AnswerTranslation } from './anthropic-egress.js';
import { translatedStream } from './translated-body.js';

/**
 * A Chat Completions body for a deployment of an `api: responses` backend: the Responses request to send and the
 * translation of its answer back to Chat Completions (read by the relay as any chat answer, decision 0014). Throws a
 * 400 GatewayError when the request says what the Responses API cannot.
 */
export function chatToResponsesApi(
  body: Record<string, unknown>,
  stream: boolean,
  deployment: Deployment,
  /** End a stream with a usage chunk: the client asked for one, or the gateway did for itself (the relay drops it). */
  includeUsage: boolean,
  /** Seconds since the epoch: every chunk's and the answer's `created`. */
  created: number,
): { body: string; answer: AnswerTranslation } {
  const request = toResponsesRequest(body, stream, deployment.upstreamModel);
  return {
    body: JSON.stringify(request),
    answer: {
      whole: (answer) => wholeAnswer(answer, created),
      stream: (source) => translatedStream(source, new ResponsesToChatStream({ created, includeUsage })),
    },
  };
}

/** A Response as a `chat.completion` body; undefined when it is not one. */
function wholeAnswer(body: Buffer, created: number): Buffer | undefined {
  let response: unknown;
  try {
    response = JSON.parse(body.toString('utf8'));
  } catch {
    return undefined;
  }
  const completion = responseToChatCompletion(response, created);
  return completion === undefined ? undefined : Buffer.from(JSON.stringify(completion), 'utf8');
}
