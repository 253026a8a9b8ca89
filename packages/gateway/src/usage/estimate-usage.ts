import { estimateCompletionTokens, estimateStreamCompletionTokens, estimateUsagePromptTokens } from '@dosrouter/shared';
import type { CompletionSource } from '../upstream/attempt.js';
import type { Operation } from '../upstream/backend.js';
import type { TokenUsage } from './token-usage.js';

/**
 * The usage of a request whose backend reported none, counted with the o200k_base tokenizer: the prompt from the
 * request, the completion from the answer, or from the stream's events (scaled up by what was not kept of a long
 * stream). The tokenizer loads on the first count (~150 ms, once per process).
 */
export function estimateUsage(operation: Operation, body: Record<string, unknown>, completion: CompletionSource): TokenUsage {
  const promptTokens = operation === 'models' ? 0 : estimateUsagePromptTokens(operation, body);
  const completionTokens =
    operation === 'embeddings'
      ? 0
      : 'answer' in completion
        ? estimateCompletionTokens(completion.answer)
        : Math.round(estimateStreamCompletionTokens(completion.events) * completion.scale);
  return { promptTokens, completionTokens, totalTokens: promptTokens + completionTokens };
}
