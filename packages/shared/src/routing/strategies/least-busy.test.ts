import { describe, expect, it } from 'vitest';
import type { Deployment } from '../../catalog/catalog.js';
import { EMPTY_SNAPSHOT, type RoutingSnapshot } from '../types.js';
import { leastBusyStrategy } from './least-busy.js';
import { seededRandom } from '../../test-support/seeded-random.js';
import { testDeployment } from '../../test-support/deployments.js';

const deployment = (id: string, weight: number): Deployment => testDeployment(id, { weight });

function withInFlight(counts: Record<string, number>, weights: Record<string, number> = {}): RoutingSnapshot {
  return { ...EMPTY_SNAPSHOT, inFlight: new Map(Object.entries(counts)), weights: new Map(Object.entries(weights)) };
}

describe('the least-busy strategy', () => {
  it('sends the request to the idle deployment and fails over to the busier ones in order', () => {
    const snapshot = withInFlight({ a: 5, b: 2 });
    const order = leastBusyStrategy.order([deployment('a', 1), deployment('b', 1), deployment('c', 1)], { snapshot, random: seededRandom(3) });
    expect(order.map((entry) => entry.id)).toEqual(['c', 'b', 'a']);
  });

  it('shares equally busy deployments by weight (3:1 → 75% ± 3%)', () => {
    const snapshot = withInFlight({ a: 2, b: 2, c: 9 });
    const candidates = [deployment('a', 3), deployment('b', 1), deployment('c', 100)];
    const random = seededRandom(42);
    let firstA = 0;
    const rounds = 10_000;
    for (let index = 0; index < rounds; index += 1) {
      const order = leastBusyStrategy.order(candidates, { snapshot, random });
      if (order[0]?.id === 'a') firstA += 1;
      expect(order[2]?.id).toBe('c');
    }
    expect(firstA / rounds).toBeGreaterThan(0.72);
    expect(firstA / rounds).toBeLessThan(0.78);
  });

  it('leaves out a drained deployment even when it is idle', () => {
    const snapshot = withInFlight({ a: 7 }, { b: 0 });
    const order = leastBusyStrategy.order([deployment('a', 1), deployment('b', 1)], { snapshot, random: seededRandom(3) });
    expect(order.map((entry) => entry.id)).toEqual(['a']);
  });

  it('keeps the configured order when every weight is 0', () => {
    const snapshot = withInFlight({ a: 7 }, { a: 0, b: 0 });
    const order = leastBusyStrategy.order([deployment('a', 1), deployment('b', 1)], { snapshot, random: seededRandom(3) });
    expect(order.map((entry) => entry.id)).toEqual(['a', 'b']);
  });
});
