import { describe, expect, it } from 'vitest';
import type { Deployment } from '../../catalog/catalog.js';
import { EMPTY_SNAPSHOT } from '../types.js';
import { costStrategy, expectedCost } from './cost.js';
import { seededRandom } from '../../test-support/seeded-random.js';
import { testDeployment } from '../../test-support/deployments.js';

const deployment = (id: string, inputPerMTok: number, outputPerMTok: number, weight = 1): Deployment =>
  testDeployment(id, { weight, pricing: { inputPerMTok, outputPerMTok }, maxOutputTokens: 16_000 });

const ids = (order: Deployment[]): string[] => order.map((entry) => entry.id);

describe('the cost strategy', () => {
  it('puts the cheapest deployment first and the rest by cost', () => {
    const candidates = [deployment('large', 2.5, 10), deployment('mini', 0.15, 0.6), deployment('medium', 1, 4)];
    const order = costStrategy.order(candidates, { snapshot: EMPTY_SNAPSHOT, random: seededRandom(1), request: { stream: false, estimatedPromptTokens: 1_000 } });
    expect(ids(order)).toEqual(['mini', 'medium', 'large']);
  });

  it('prices the estimated tokens: cheap input with expensive output loses for long answers', () => {
    const candidates = [deployment('cheap-input', 0.1, 10), deployment('balanced', 1, 2)];
    const context = { snapshot: EMPTY_SNAPSHOT, random: seededRandom(1) };
    const longPrompt = { stream: false, estimatedPromptTokens: 10_000, maxOutputTokens: 50 };
    const longAnswer = { stream: false, estimatedPromptTokens: 100, maxOutputTokens: 4_000 };
    expect(ids(costStrategy.order(candidates, { ...context, request: longPrompt }))).toEqual(['cheap-input', 'balanced']);
    expect(ids(costStrategy.order(candidates, { ...context, request: longAnswer }))).toEqual(['balanced', 'cheap-input']);
  });

  it('expects 256 output tokens when the request sets no cap, and 500 prompt tokens without a profile', () => {
    const priced = deployment('a', 1, 10);
    expect(expectedCost(priced, { stream: false, estimatedPromptTokens: 1_000 })).toBeCloseTo((1_000 * 1 + 256 * 10) / 1e6, 12);
    expect(expectedCost(priced)).toBeCloseTo((500 * 1 + 256 * 10) / 1e6, 12);
  });

  it('shares deployments that cost the same by weight (3:1 → 75% ± 3%)', () => {
    const candidates = [deployment('a', 0.5, 1.5, 3), deployment('b', 0.5, 1.5, 1), deployment('dear', 5, 15, 100)];
    const random = seededRandom(42);
    const rounds = 10_000;
    let firstA = 0;
    for (let index = 0; index < rounds; index += 1) {
      const order = costStrategy.order(candidates, { snapshot: EMPTY_SNAPSHOT, random });
      if (order[0]?.id === 'a') firstA += 1;
      expect(order[2]?.id).toBe('dear');
    }
    expect(firstA / rounds).toBeGreaterThan(0.72);
    expect(firstA / rounds).toBeLessThan(0.78);
  });

  it('picks the cheapest deployment that is not drained', () => {
    const snapshot = { ...EMPTY_SNAPSHOT, weights: new Map([['free', 0]]) };
    const candidates = [deployment('free', 0, 0), deployment('dear', 5, 15), deployment('mini', 0.15, 0.6)];
    expect(ids(costStrategy.order(candidates, { snapshot, random: seededRandom(1) }))).toEqual(['mini', 'dear']);
  });
});
