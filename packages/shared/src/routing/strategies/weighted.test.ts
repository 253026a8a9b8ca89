import { describe, expect, it } from 'vitest';
import type { Deployment } from '../../catalog/catalog.js';
import { EMPTY_SNAPSHOT } from '../types.js';
import { weightedStrategy } from './weighted.js';
import { seededRandom } from '../../test-support/seeded-random.js';
import { testDeployment } from '../../test-support/deployments.js';

const deployment = (id: string, weight: number): Deployment => testDeployment(id, { weight });


describe('the weighted strategy', () => {
  const empty = EMPTY_SNAPSHOT;

  it('picks first in proportion to the weights (3:1 → 75% ± 3%)', () => {
    const candidates = [deployment('a', 3), deployment('b', 1)];
    const random = seededRandom(42);
    let firstA = 0;
    const rounds = 10_000;
    for (let index = 0; index < rounds; index += 1) {
      if (weightedStrategy.order(candidates, { snapshot: empty, random })[0]?.id === 'a') firstA += 1;
    }
    expect(firstA / rounds).toBeGreaterThan(0.72);
    expect(firstA / rounds).toBeLessThan(0.78);
  });

  it('lists every deployment once, the rest as the failover order', () => {
    const order = weightedStrategy.order([deployment('a', 1), deployment('b', 1), deployment('c', 1)], { snapshot: empty, random: seededRandom(1) });
    expect(order.map((entry) => entry.id).sort()).toEqual(['a', 'b', 'c']);
  });

  it('uses the snapshot weight over the configured one and leaves out weight 0', () => {
    const snapshot = { ...EMPTY_SNAPSHOT, weights: new Map([['a', 0]]) };
    const order = weightedStrategy.order([deployment('a', 5), deployment('b', 1)], { snapshot, random: seededRandom(7) });
    expect(order.map((entry) => entry.id)).toEqual(['b']);
  });

  it('keeps the configured order when every weight is 0', () => {
    const snapshot = { ...EMPTY_SNAPSHOT, weights: new Map([['a', 0], ['b', 0]]) };
    const order = weightedStrategy.order([deployment('a', 1), deployment('b', 1)], { snapshot, random: seededRandom(7) });
    expect(order.map((entry) => entry.id)).toEqual(['a', 'b']);
  });
});
