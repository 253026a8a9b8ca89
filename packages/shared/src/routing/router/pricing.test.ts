import { describe, expect, it } from 'vitest';
import { costUsd, formatUsd } from './pricing.js';

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
