import { invalidRequest } from '@dosrouter/shared';

/** Most choices one request may ask for (`n`); OpenAI's own cap. */
export const MAX_CHOICES = 128;

/**
 * Most completion tokens one request may ask for (`max_tokens`, `max_completion_tokens`): far above any model's
 * output, low enough that `n × max_tokens` stays an exact integer in Redis' windows (128 × 10 M = 1.28 × 10^9).
 */
export const MAX_COMPLETION_TOKENS = 10_000_000;

/**
 * The body fields the token estimate reads (`estimateTokens` in proxy/admission.ts), checked on every route
 * that is admitted (chat, completions, embeddings): each, when present, a whole number from 1 to its bound. A
 * fraction would break the limiter's integer counters and a negative value would give tokens back to the key's
 * window, so nothing else may reach admission.
 */
export function checkEstimateFields(body: Record<string, unknown>): void {
  checkPositiveInteger(body, 'n', MAX_CHOICES);
  checkPositiveInteger(body, 'max_tokens', MAX_COMPLETION_TOKENS);
  checkPositiveInteger(body, 'max_completion_tokens', MAX_COMPLETION_TOKENS);
}

function checkPositiveInteger(body: Record<string, unknown>, field: string, maximum: number): void {
  const value = body[field];
  if (value === undefined || value === null) return;
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 1 || value > maximum) {
    throw invalidRequest(`\`${field}\` must be an integer from 1 to ${maximum}.`, field, 'invalid_value');
  }
}
