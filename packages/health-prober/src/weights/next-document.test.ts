import { describe, expect, it } from 'vitest';
import { initialHealth, type DeploymentHealth } from '@dosrouter/shared';
import { nextWeightsDocument } from './next-document.js';

const healthy = (weight: number): DeploymentHealth => initialHealth(weight, 0);
const down: DeploymentHealth = { ...healthy(1), weight: 0, score: 0, state: 'down' };

describe('nextWeightsDocument', () => {
  it('starts at generation 1 and lists every deployment’s weight and state', () => {
    const { document, changed } = nextWeightsDocument(undefined, new Map([['a/m', healthy(2)]]), 1_000);
    expect(changed).toBe(true);
    expect(document).toEqual({ schemaVersion: 1, generation: 1, publishedAt: 1_000, weights: { 'a/m': 2 }, health: { 'a/m': { state: 'healthy', score: 1 } } });
  });

  it('keeps the generation when nothing routing reads changed, but refreshes the publication time', () => {
    const first = nextWeightsDocument(undefined, new Map([['a/m', healthy(1)]]), 1_000).document;
    const { document, changed } = nextWeightsDocument(first, new Map([['a/m', { ...healthy(1), consecutiveSuccesses: 5 }]]), 2_000);
    expect(changed).toBe(false);
    expect(document.generation).toBe(1);
    expect(document.publishedAt).toBe(2_000);
  });

  it('moves the generation on a changed weight, a changed state, or a deployment added or removed', () => {
    const first = nextWeightsDocument(undefined, new Map([['a/m', healthy(1)]]), 1_000).document;
    expect(nextWeightsDocument(first, new Map([['a/m', down]]), 2_000)).toMatchObject({ changed: true, document: { generation: 2 } });
    expect(nextWeightsDocument(first, new Map([['a/m', { ...healthy(1), weight: 0.5, state: 'healthy' }]]), 2_000).changed).toBe(true);
    expect(nextWeightsDocument(first, new Map([['a/m', { ...healthy(1), state: 'degraded' }]]), 2_000).changed).toBe(true);
    expect(nextWeightsDocument(first, new Map([['a/m', healthy(1)], ['b/m', healthy(1)]]), 2_000).changed).toBe(true);
    expect(nextWeightsDocument(first, new Map(), 2_000).changed).toBe(true);
  });

  it('is never older than the table it follows, whatever this prober’s clock says', () => {
    const first = nextWeightsDocument(undefined, new Map([['a/m', healthy(1)]]), 5_000).document;
    expect(nextWeightsDocument(first, new Map([['a/m', healthy(1)]]), 4_000).document.publishedAt).toBe(5_001);
  });
});
