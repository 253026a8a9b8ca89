import { describe, expect, it } from 'vitest';
import { costUsd, formatUsd, usageCostUsd } from './pricing.js';

describe('costUsd', () => {
  it('prices prompt and completion tokens at their own per-million rates', () => {
    const pricing = { inputPerMTok: 3, outputPerMTok: 15 };
    expect(costUsd(pricing, 1_000_000, 0)).toBe(3);
    expect(costUsd(pricing, 0, 1_000_000)).toBe(15);
    expect(costUsd(pricing, 2_000, 500)).toBeCloseTo(0.006 + 0.0075, 12);
  });

  it('is 0 for a free model or no tokens', () => {
    expect(costUsd({ inputPerMTok: 0, outputPerMTok: 0 }, 10_000, 10_000)).toBe(0);
    expect(costUsd({ inputPerMTok: 3, outputPerMTok: 15 }, 0, 0)).toBe(0);
  });
});

describe('usageCostUsd', () => {
  // Anthropic's Sonnet prices: $3 input, $15 output, $0.30 cache read, $3.75 (5m) and $6 (1h) cache write.
  const sonnet = { inputPerMTok: 3, outputPerMTok: 15, cacheReadPerMTok: 0.3, cacheWritePerMTok: { '5m': 3.75, '1h': 6 } };

  it('prices uncached prompt, cache reads, cache writes by lifetime and completion each at its own rate', () => {
    // 10,000 prompt tokens: 6,000 read, 3,000 written (1,000 of them for 1h), 1,000 uncached; 500 completion.
    const cost = usageCostUsd(sonnet, {
      promptTokens: 10_000,
      completionTokens: 500,
      cacheReadTokens: 6_000,
      cacheWriteTokens: 3_000,
      cacheWrite1hTokens: 1_000,
    });
    expect(cost).toBeCloseTo((1_000 * 3 + 6_000 * 0.3 + 2_000 * 3.75 + 1_000 * 6 + 500 * 15) / 1e6, 15);
  });

  it('equals costUsd when nothing was cached', () => {
    expect(usageCostUsd(sonnet, { promptTokens: 2_000, completionTokens: 500 })).toBe(costUsd(sonnet, 2_000, 500));
  });

  it('prices cached tokens at the input price when the catalog names no cache price', () => {
    const plain = { inputPerMTok: 2, outputPerMTok: 8 };
    expect(usageCostUsd(plain, { promptTokens: 2_000, completionTokens: 0, cacheReadTokens: 1_500, cacheWriteTokens: 500 })).toBe(
      costUsd(plain, 2_000, 0),
    );
  });

  it('takes one cache-write price for every lifetime, and the named price for a lifetime left out', () => {
    const tokens = { promptTokens: 1_000, completionTokens: 0, cacheWriteTokens: 1_000, cacheWrite1hTokens: 400 };
    expect(usageCostUsd({ inputPerMTok: 1, outputPerMTok: 0, cacheWritePerMTok: 1.25 }, tokens)).toBeCloseTo(1_000 * 1.25 / 1e6, 15);
    expect(usageCostUsd({ inputPerMTok: 1, outputPerMTok: 0, cacheWritePerMTok: { '5m': 1.25 } }, tokens)).toBeCloseTo(1_000 * 1.25 / 1e6, 15);
    expect(usageCostUsd({ inputPerMTok: 1, outputPerMTok: 0, cacheWritePerMTok: { '1h': 2 } }, tokens)).toBeCloseTo(1_000 * 2 / 1e6, 15);
  });

  it('caps cache counts above the prompt, so that no token is priced twice', () => {
    const cost = usageCostUsd(sonnet, { promptTokens: 100, completionTokens: 0, cacheReadTokens: 80, cacheWriteTokens: 80 });
    expect(cost).toBeCloseTo((80 * 0.3 + 20 * 3.75) / 1e6, 15);
  });
});

describe('formatUsd', () => {
  it('writes amounts as plain decimals without trailing zeros', () => {
    expect(formatUsd(0.0135)).toBe('0.0135');
    expect(formatUsd(1.5)).toBe('1.5');
    expect(formatUsd(12)).toBe('12');
    expect(formatUsd(100)).toBe('100');
  });

  it('never uses exponent notation for tiny amounts', () => {
    // String(1e-7) is "1e-7": a header value a client would misread.
    expect(formatUsd(1e-7)).toBe('0.0000001');
    expect(formatUsd(costUsd({ inputPerMTok: 0.02, outputPerMTok: 0 }, 3, 0))).toBe('0.00000006');
    for (const amount of [1e-6, 2.5e-8, 9.99e-9, 1234.5678, 1e9]) expect(formatUsd(amount)).not.toMatch(/e/i);
  });

  it('keeps at most 10 decimals, rounding the rest away', () => {
    expect(formatUsd(0.12345678901234)).toBe('0.123456789');
    expect(formatUsd(1e-11)).toBe('0');
  });

  it('writes zero as "0", never "-0" or "0."', () => {
    expect(formatUsd(0)).toBe('0');
    expect(formatUsd(-0)).toBe('0');
    expect(formatUsd(-1e-12)).toBe('0');
  });

  it('keeps the sign of a negative amount (a savings header can be below zero)', () => {
    expect(formatUsd(-0.25)).toBe('-0.25');
  });
});
