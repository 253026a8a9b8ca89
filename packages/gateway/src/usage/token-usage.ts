import type { PricedTokens } from '@dosrouter/shared';

/**
 * What an answer used, in OpenAI's accounting whatever the protocol: `promptTokens` is every prompt token and the
 * cache counts are parts of it. Anthropic reports `input_tokens` as only the uncached rest, beside
 * `cache_read_input_tokens` and `cache_creation_input_tokens`: its readers add the three up.
 */
export interface TokenUsage extends PricedTokens {
  promptTokens: number;
  completionTokens: number;
  totalTokens: number;
}

/** The largest token count believed from a backend: more than any context window, less than breaks integer sums. */
const MAX_REPORTED_TOKENS = 100_000_000;

/** A backend's token count as a whole number in [0, MAX_REPORTED_TOKENS]: "Infinity", -5 or 12.5 cannot poison sums. */
export function tokenCount(value: unknown): number {
  const number = Number(value);
  return Number.isFinite(number) ? Math.min(MAX_REPORTED_TOKENS, Math.max(0, Math.round(number))) : 0;
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Builds a usage, leaving out cache counts of 0 so that an answer without cache use looks as it always did. */
export function tokenUsage(promptTokens: number, completionTokens: number, cache: { read?: number; write?: number; write1h?: number } = {}): TokenUsage {
  return {
    promptTokens,
    completionTokens,
    totalTokens: promptTokens + completionTokens,
    ...(cache.read ? { cacheReadTokens: cache.read } : {}),
    ...(cache.write ? { cacheWriteTokens: cache.write } : {}),
    ...(cache.write1h ? { cacheWrite1hTokens: cache.write1h } : {}),
  };
}

/**
 * OpenAI's usage object (chat and completions: `prompt_tokens`; Responses: `input_tokens` with
 * `input_tokens_details`). Either way the prompt count includes `cached_tokens`. OpenAI has no field for a cache
 * write: an answer translated from Anthropic's carries Anthropic's `cache_creation_input_tokens` (and
 * `cache_creation`) beside, as parts of prompt_tokens too.
 */
export function usageFromOpenAiUsage(usage: Record<string, unknown>): TokenUsage {
  const details = usage.prompt_tokens_details ?? usage.input_tokens_details;
  const promptTokens = tokenCount(usage.prompt_tokens ?? usage.input_tokens);
  const read = Math.min(isObject(details) ? tokenCount(details.cached_tokens) : 0, promptTokens);
  const write = Math.min(tokenCount(usage.cache_creation_input_tokens), promptTokens - read);
  const completionTokens = tokenCount(usage.completion_tokens ?? usage.output_tokens);
  return tokenUsage(promptTokens, completionTokens, { read, write, write1h: Math.min(write, oneHourWrites(usage)) });
}

/** `cache_creation.ephemeral_1h_input_tokens`: of the cache writes, those made for an hour. */
function oneHourWrites(usage: Record<string, unknown>): number {
  const creation = usage.cache_creation;
  return isObject(creation) ? tokenCount(creation.ephemeral_1h_input_tokens) : 0;
}

/**
 * Anthropic's usage object (a message's, or a stream's message_start and message_delta merged): its input_tokens
 * exclude the cache reads and writes, which are added here; the 1-hour share of the writes comes from
 * `cache_creation.ephemeral_1h_input_tokens`.
 */
export function usageFromAnthropicUsage(usage: Record<string, unknown>): TokenUsage {
  const read = tokenCount(usage.cache_read_input_tokens);
  const write = tokenCount(usage.cache_creation_input_tokens);
  return tokenUsage(tokenCount(usage.input_tokens) + read + write, tokenCount(usage.output_tokens), { read, write, write1h: Math.min(write, oneHourWrites(usage)) });
}

/**
 * True for Anthropic's usage shape: `input_tokens` or `output_tokens` without OpenAI's `prompt_tokens`, and without
 * the `total_tokens` that OpenAI's Responses API sends and Anthropic never does.
 */
function isAnthropicUsage(usage: Record<string, unknown>): boolean {
  if (usage.prompt_tokens !== undefined || usage.total_tokens !== undefined || usage.input_tokens_details !== undefined) return false;
  return usage.input_tokens !== undefined || usage.output_tokens !== undefined;
}

/** Reads `usage` from a non-streaming response body (or a stream's usage chunk), OpenAI's or Anthropic's. */
export function usageFromResponse(body: unknown): TokenUsage | undefined {
  const usage = (body as { usage?: unknown } | null)?.usage;
  if (!isObject(usage)) return undefined;
  return isAnthropicUsage(usage) ? usageFromAnthropicUsage(usage) : usageFromOpenAiUsage(usage);
}
