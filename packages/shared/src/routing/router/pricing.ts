import type { Pricing } from '../../config/schema.js';

/** USD for this many tokens at these prices (per million tokens), none of the prompt cached. */
export function costUsd(pricing: Pricing, promptTokens: number, completionTokens: number): number {
  return (promptTokens * pricing.inputPerMTok + completionTokens * pricing.outputPerMTok) / 1_000_000;
}

/**
 * The tokens an answer is priced by, in OpenAI's accounting: `promptTokens` is every prompt token, and the cache
 * counts are parts of it (Anthropic's `input_tokens` is only the uncached rest: the reader adds the three up).
 */
export interface PricedTokens {
  readonly promptTokens: number;
  readonly completionTokens: number;
  /** Of promptTokens, read from the provider's prompt cache. */
  readonly cacheReadTokens?: number;
  /** Of promptTokens, written to the provider's prompt cache, whatever the lifetime. */
  readonly cacheWriteTokens?: number;
  /** Of cacheWriteTokens, written with the 1-hour lifetime; the rest had the 5-minute one. */
  readonly cacheWrite1hTokens?: number;
}

/** The price per million of a cache write of this lifetime: the catalog's, else the input price. */
function cacheWritePrice(pricing: Pricing, lifetime: '5m' | '1h'): number {
  const price = pricing.cacheWritePerMTok;
  if (price === undefined) return pricing.inputPerMTok;
  if (typeof price === 'number') return price;
  const named = lifetime === '1h' ? (price['1h'] ?? price['5m']) : (price['5m'] ?? price['1h']);
  return named ?? pricing.inputPerMTok;
}

/**
 * USD for an answer's tokens: uncached prompt tokens at inputPerMTok, cache reads at cacheReadPerMTok, cache writes
 * at cacheWritePerMTok for their lifetime (each unset: inputPerMTok), completion tokens at outputPerMTok. Cache
 * counts a backend reports above the prompt are capped by it, so a bad report never prices tokens twice.
 */
export function usageCostUsd(pricing: Pricing, tokens: PricedTokens): number {
  const prompt = tokens.promptTokens;
  const read = Math.min(prompt, tokens.cacheReadTokens ?? 0);
  const written = Math.min(prompt - read, tokens.cacheWriteTokens ?? 0);
  const writtenFor1h = Math.min(written, tokens.cacheWrite1hTokens ?? 0);
  const uncached = prompt - read - written;
  return (
    (uncached * pricing.inputPerMTok +
      read * (pricing.cacheReadPerMTok ?? pricing.inputPerMTok) +
      (written - writtenFor1h) * cacheWritePrice(pricing, '5m') +
      writtenFor1h * cacheWritePrice(pricing, '1h') +
      tokens.completionTokens * pricing.outputPerMTok) /
    1_000_000
  );
}

/** A USD amount for a header: fixed-point (never exponent notation), at most 10 decimals, no trailing zeros. */
export function formatUsd(amount: number): string {
  // toFixed switches to exponent notation from 1e21; no price makes such an amount, but the header stays a number.
  if (!Number.isFinite(amount) || Math.abs(amount) >= 1e21) return '0';
  const fixed = amount.toFixed(10).replace(/0+$/, '').replace(/\.$/, '');
  return fixed === '-0' ? '0' : fixed;
}
