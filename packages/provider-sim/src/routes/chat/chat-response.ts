import type { ResolvedModel } from '../../config/parse-simulator-options.js';
import type { StreamEvent } from '../../delivery/event-stream.js';
import { flattenSteps, tokenEvents } from '../../delivery/stream-steps.js';
import { chunkPrefix, type ResponseMeta } from '../response-meta.js';
import { chunkEnding, closingEvents, type Usage } from '../usage.js';
import { piecesOf, type ChatChoiceAnswer } from './chat-answer.js';

export function completionTokensOf(answers: readonly ChatChoiceAnswer[]): number {
  return answers.reduce((sum, answer) => sum + piecesOf(answer).length, 0);
}

function finishReasonOf(answer: ChatChoiceAnswer): string {
  return answer.kind === 'text' ? answer.finishReason : 'tool_calls';
}

function messageOf(answer: ChatChoiceAnswer): Record<string, unknown> {
  if (answer.kind === 'text') {
    return { role: 'assistant', content: answer.tokens.join(''), refusal: null };
  }
  return {
    role: 'assistant',
    content: null,
    refusal: null,
    tool_calls: [
      {
        id: answer.callId,
        type: 'function',
        function: { name: answer.functionName, arguments: answer.argumentPieces.join('') },
      },
    ],
  };
}

/** The non-streaming `chat.completion` object; without `usage` when there is none to report. */
export function buildChatCompletion(
  meta: ResponseMeta,
  answers: readonly ChatChoiceAnswer[],
  usage: Usage | undefined,
): Record<string, unknown> {
  return {
    id: meta.id,
    object: 'chat.completion',
    created: meta.created,
    model: meta.modelId,
    choices: answers.map((answer) => ({
      index: answer.index,
      message: messageOf(answer),
      logprobs: null,
      finish_reason: finishReasonOf(answer),
    })),
    ...(usage === undefined ? {} : { usage }),
    system_fingerprint: meta.systemFingerprint,
  };
}

function openingDelta(answer: ChatChoiceAnswer): Record<string, unknown> {
  if (answer.kind === 'text') {
    return { role: 'assistant', content: '' };
  }
  return {
    role: 'assistant',
    content: null,
    tool_calls: [{ index: 0, id: answer.callId, type: 'function', function: { name: answer.functionName, arguments: '' } }],
  };
}

function pieceDelta(answer: ChatChoiceAnswer, piece: string): Record<string, unknown> {
  return answer.kind === 'text' ? { content: piece } : { tool_calls: [{ index: 0, function: { arguments: piece } }] };
}

/**
 * The `chat.completion.chunk` events of a stream, as OpenAI sends them: per choice a role chunk, one chunk per token
 * (choices interleaved by index), a finish chunk; then, when there is `usage` to send, a usage chunk with no choices;
 * then [DONE]. The role chunks wait for the first token, so time-to-first-chunk measures time-to-first-token.
 */
export function buildChatStreamEvents(
  meta: ResponseMeta,
  answers: readonly ChatChoiceAnswer[],
  usage: Usage | undefined,
  model: ResolvedModel,
): StreamEvent[] {
  const prefix = chunkPrefix(meta, 'chat.completion.chunk');
  const suffix = chunkEnding(usage);
  const chunk = (answer: ChatChoiceAnswer, delta: Record<string, unknown>, finishReason: string | null): string =>
    `${prefix}${JSON.stringify([{ index: answer.index, delta, logprobs: null, finish_reason: finishReason }])}${suffix}`;
  return [
    ...flattenSteps([{ delayBeforeMs: model.firstTokenDelayMs, payloads: answers.map((answer) => chunk(answer, openingDelta(answer), null)) }]),
    ...tokenEvents(answers, piecesOf, (answer, piece) => chunk(answer, pieceDelta(answer, piece), null), 0, model.interTokenDelayMs),
    ...flattenSteps([{ delayBeforeMs: 0, payloads: answers.map((answer) => chunk(answer, {}, finishReasonOf(answer))) }]),
    ...closingEvents(prefix, usage),
  ];
}
