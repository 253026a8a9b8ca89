import { describe, expect, it } from 'vitest';
import { errorRateFactor, latencyFactor, nextLatencyBaseline, smoothScore } from './health-signals.js';
import { DEFAULT_WEIGHT_POLICY as policy } from './weight-policy.js';

describe('the error-rate factor', () => {
  it('is undefined without stats or below the minimum request volume', () => {
    expect(errorRateFactor(undefined, policy)).toBeUndefined();
    expect(errorRateFactor({ requests: 19, errorRate: 1 }, policy)).toBeUndefined();
    expect(errorRateFactor({ requests: 20, errorRate: Number.NaN }, policy)).toBeUndefined();
  });

  it('is 1 up to the threshold and falls in proportion to 0 at errorRateForMinimum', () => {
    const factor = (errorRate: number) => errorRateFactor({ requests: 100, errorRate }, policy);
    expect(factor(0)).toBe(1);
    expect(factor(0.05)).toBe(1);
    expect(factor(0.1)).toBeCloseTo(0.889, 3);
    expect(factor(0.2)).toBeCloseTo(0.667, 3);
    expect(factor(0.3)).toBeCloseTo(0.444, 3);
    expect(factor(0.5)).toBe(0);
    expect(factor(1)).toBe(0);
    expect(factor(7)).toBe(0);
  });
});

describe('the latency factor', () => {
  it('is undefined before there is a baseline, or for an unusable latency', () => {
    expect(latencyFactor(500, undefined, policy)).toBeUndefined();
    expect(latencyFactor(Number.NaN, 200, policy)).toBeUndefined();
    expect(latencyFactor(-1, 200, policy)).toBeUndefined();
  });

  it('is 1 within the tolerance, then tolerance / ratio, never below the minimum factor', () => {
    expect(latencyFactor(400, 200, policy)).toBe(1);
    expect(latencyFactor(600, 200, policy)).toBeCloseTo(2 / 3, 10);
    expect(latencyFactor(800, 200, policy)).toBe(0.5);
    expect(latencyFactor(20_000, 200, policy)).toBe(0.5);
  });

  it('compares a baseline below the noise floor as the noise floor', () => {
    expect(latencyFactor(100, 2, policy)).toBe(1);
    expect(latencyFactor(150, 2, policy)).toBeCloseTo(2 / 3, 10);
  });
});

describe('the latency baseline', () => {
  it('starts at the first latency and then moves slowly towards new ones', () => {
    expect(nextLatencyBaseline(undefined, 300, policy)).toBe(300);
    expect(nextLatencyBaseline(200, 1200, policy)).toBeCloseTo(220, 10);
    expect(nextLatencyBaseline(200, Number.NaN, policy)).toBe(200);
  });
});

describe('the smoothed score', () => {
  it('keeps the score when there is no observation', () => {
    expect(smoothScore(0.42, undefined, policy)).toBe(0.42);
  });

  it('moves by the smoothing factor towards the observation', () => {
    expect(smoothScore(1, 0, policy)).toBeCloseTo(0.7, 10);
    expect(smoothScore(0.5, 1, policy)).toBeCloseTo(0.65, 10);
  });

  it('settles on the observation once within the tolerance', () => {
    expect(smoothScore(0.975, 1, policy)).toBe(1);
    expect(smoothScore(0.9, 1, policy)).toBeLessThan(1);
  });
});
