import type { ResolvedModel } from '../config/parse-simulator-options.js';
import { DONE_PAYLOAD, type StreamEvent } from '../delivery/event-stream.js';

export interface Usage {
  prompt_tokens: number;
  completion_tokens: number;
  total_tokens: number;
  /** Only when part of the prompt was read from the prompt cache; cached_tokens are part of prompt_tokens. */
  prompt_tokens_details?: { cached_tokens: number };
}

export function buildUsage(promptTokens: number, completionTokens: number, cachedTokens = 0): Usage {
  const usage: Usage = { prompt_tokens: promptTokens, completion_tokens: completionTokens, total_tokens: promptTokens + completionTokens };
  if (cachedTokens > 0) {
    usage.prompt_tokens_details = { cached_tokens: cachedTokens };
  }
  return usage;
}

/**
 * The usage a chat or text completion answer carries, or undefined for none: a model that reports no usage (like some
 * vLLM or Ollama setups) never sends it, and a stream sends it only when the request asked for include_usage.
 * `cachedTokens` (chat only) adds `prompt_tokens_details.cached_tokens` when above 0.
 */
export function answerUsage(
  request: { model: ResolvedModel; stream: boolean; includeUsage: boolean; promptTokens: number },
  completionTokens: number,
  cachedTokens = 0,
): Usage | undefined {
  if (!request.model.reportsUsage || (request.stream && !request.includeUsage)) {
    return undefined;
  }
  return buildUsage(request.promptTokens, completionTokens, cachedTokens);
}

/** How every chunk of a stream ends: with `"usage":null` when the stream ends with a usage chunk, as OpenAI sends it. */
export function chunkEnding(usage: Usage | undefined): string {
  return usage === undefined ? '}' : ',"usage":null}';
}

/** The events that close a stream: the usage chunk (no choices), when there is usage to send, then [DONE]. */
export function closingEvents(prefix: string, usage: Usage | undefined): StreamEvent[] {
  const done: StreamEvent = { payload: DONE_PAYLOAD, delayBeforeMs: 0 };
  return usage === undefined ? [done] : [{ payload: `${prefix}[],"usage":${JSON.stringify(usage)}}`, delayBeforeMs: 0 }, done];
}
