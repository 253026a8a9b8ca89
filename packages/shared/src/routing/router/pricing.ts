import type { Pricing } from '../../config/schema.js';

/** USD for this many tokens at these prices (per million tokens). */
export function costUsd(pricing: Pricing, promptTokens: number, completionTokens: number): number {
  return (promptTokens * pricing.inputPerMTok + completionTokens * pricing.outputPerMTok) / 1_000_000;
}

/** A USD amount for a header: fixed-point (never exponent notation), at most 10 decimals, no trailing zeros. */
export function formatUsd(amount: number): string {
  // toFixed switches to exponent notation from 1e21; no price makes such an amount, but the header stays a number.
  if (!Number.isFinite(amount) || Math.abs(amount) >= 1e21) return '0';
  const fixed = amount.toFixed(10).replace(/0+$/, '').replace(/\.$/, '');
  return fixed === '-0' ? '0' : fixed;
}
