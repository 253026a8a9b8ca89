import type { ResolvedModel } from '../../config/parse-simulator-options.js';
import type { StreamEvent } from '../../delivery/event-stream.js';
import { flattenSteps, tokenEvents } from '../../delivery/stream-steps.js';
import { answerSeed, generateTextTokens } from '../../generation/text-generator.js';
import { completionLength } from '../request-fields.js';
import { chunkPrefix, type ResponseMeta } from '../response-meta.js';
import { chunkEnding, closingEvents, type Usage } from '../usage.js';
import type { CompletionRequest } from './completions-request.js';

export interface CompletionChoiceAnswer {
  index: number;
  tokens: string[];
  finishReason: 'stop' | 'length';
}

/** `n` answers per prompt, indexed prompt-major as OpenAI does (prompt p, choice c → index p * n + c). */
export function answerCompletion(request: CompletionRequest, empty: boolean): CompletionChoiceAnswer[] {
  const length = completionLength(request.model, request.maximumTokens);
  const answers: CompletionChoiceAnswer[] = [];
  request.prompts.forEach((prompt, promptIndex) => {
    for (let choice = 0; choice < request.choiceCount; choice += 1) {
      const index = promptIndex * request.choiceCount + choice;
      if (empty) {
        answers.push({ index, tokens: [], finishReason: 'stop' });
      } else {
        const tokens = generateTextTokens(answerSeed(request.model.id, prompt.key, choice), length.tokens);
        answers.push({ index, tokens, finishReason: length.capped ? 'length' : 'stop' });
      }
    }
  });
  return answers;
}

/** The non-streaming `text_completion` object; without `usage` when there is none to report. */
export function buildTextCompletion(
  meta: ResponseMeta,
  answers: readonly CompletionChoiceAnswer[],
  usage: Usage | undefined,
): Record<string, unknown> {
  return {
    id: meta.id,
    object: 'text_completion',
    created: meta.created,
    model: meta.modelId,
    system_fingerprint: meta.systemFingerprint,
    choices: answers.map((answer) => ({
      text: answer.tokens.join(''),
      index: answer.index,
      logprobs: null,
      finish_reason: answer.finishReason,
    })),
    ...(usage === undefined ? {} : { usage }),
  };
}

/**
 * Legacy completion chunks: one token per chunk, then a chunk with empty text and the finish reason per choice; then,
 * when there is `usage` to send, a usage chunk with no choices; then [DONE].
 */
export function buildCompletionStreamEvents(
  meta: ResponseMeta,
  answers: readonly CompletionChoiceAnswer[],
  usage: Usage | undefined,
  model: ResolvedModel,
): StreamEvent[] {
  const prefix = chunkPrefix(meta, 'text_completion');
  const suffix = chunkEnding(usage);
  const chunk = (answer: CompletionChoiceAnswer, text: string, finishReason: string | null): string =>
    `${prefix}${JSON.stringify([{ text, index: answer.index, logprobs: null, finish_reason: finishReason }])}${suffix}`;
  const tokens = tokenEvents(
    answers,
    (answer) => answer.tokens,
    (answer, token) => chunk(answer, token, null),
    model.firstTokenDelayMs,
    model.interTokenDelayMs,
  );
  const finish = flattenSteps([
    {
      // With no tokens at all (the empty fault) the finish chunks are the first thing the model sends.
      delayBeforeMs: tokens.length === 0 ? model.firstTokenDelayMs : 0,
      payloads: answers.map((answer) => chunk(answer, '', answer.finishReason)),
    },
  ]);
  return [...tokens, ...finish, ...closingEvents(prefix, usage)];
}
