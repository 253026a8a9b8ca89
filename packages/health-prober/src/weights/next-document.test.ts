import { describe, expect, it } from 'vitest';
import { initialHealth, type DeploymentHealth } from '@dosrouter/shared';
import { nextWeightsDocument } from './next-document.js';

const healthy = (weight: number): DeploymentHealth => initialHealth(weight, 0);
const down: DeploymentHealth = { ...healthy(1), weight: 0, score: 0, state: 'down' };

describe('nextWeightsDocument', () => {
  it('lists every deployment’s weight and state under the generation and time it is given', () => {
    const { document, changed } = nextWeightsDocument(undefined, new Map([['a/m', healthy(2)]]), 1_000, 1);
    expect(changed).toBe(true);
    expect(document).toEqual({ schemaVersion: 1, generation: 1, publishedAt: 1_000, weights: { 'a/m': 2 }, health: { 'a/m': { state: 'healthy', score: 1 } } });
  });

  it('is a change only when something routing or dashboards read changed, not a counter of the engine', () => {
    const first = nextWeightsDocument(undefined, new Map([['a/m', healthy(1)]]), 1_000, 1).document;
    expect(nextWeightsDocument(first, new Map([['a/m', { ...healthy(1), consecutiveSuccesses: 5 }]]), 2_000, 2).changed).toBe(false);
    expect(nextWeightsDocument(first, new Map([['a/m', down]]), 2_000, 2).changed).toBe(true);
    expect(nextWeightsDocument(first, new Map([['a/m', { ...healthy(1), weight: 0.5 }]]), 2_000, 2).changed).toBe(true);
    expect(nextWeightsDocument(first, new Map([['a/m', { ...healthy(1), state: 'degraded' }]]), 2_000, 2).changed).toBe(true);
    expect(nextWeightsDocument(first, new Map([['a/m', healthy(1)], ['b/m', healthy(1)]]), 2_000, 2).changed).toBe(true);
    expect(nextWeightsDocument(first, new Map(), 2_000, 2).changed).toBe(true);
  });

  it('dates the table by this prober’s clock even when an earlier table is dated later', () => {
    const ahead = nextWeightsDocument(undefined, new Map([['a/m', healthy(1)]]), 9_000, 1).document;
    expect(nextWeightsDocument(ahead, new Map([['a/m', healthy(1)]]), 4_000, 2).document).toMatchObject({ generation: 2, publishedAt: 4_000 });
  });
});
