import { describe, expect, it } from 'vitest';
import type { Deployment } from '../../catalog/catalog.js';
import { EMPTY_SNAPSHOT, type StrategyContext } from '../types.js';
import { createRoundRobinStrategy } from './round-robin.js';
import { seededRandom } from '../../test-support/seeded-random.js';
import { testDeployment } from '../../test-support/deployments.js';

const deployment = (id: string, weight: number): Deployment => testDeployment(id, { weight });

const context: StrategyContext = { snapshot: EMPTY_SNAPSHOT, random: seededRandom(1) };

function firstPicks(strategy: ReturnType<typeof createRoundRobinStrategy>, candidates: Deployment[], rounds: number): string[] {
  return Array.from({ length: rounds }, () => strategy.order(candidates, context)[0]!.id);
}

describe('the round-robin strategy', () => {
  it('gives weights 3:1 exactly 300 and 100 first places in 400 requests', () => {
    const picks = firstPicks(createRoundRobinStrategy(), [deployment('a', 3), deployment('b', 1)], 400);
    expect(picks.filter((id) => id === 'a')).toHaveLength(300);
    expect(picks.filter((id) => id === 'b')).toHaveLength(100);
  });

  it('spreads the picks out instead of sending them in bursts', () => {
    expect(firstPicks(createRoundRobinStrategy(), [deployment('a', 3), deployment('b', 1)], 8)).toEqual(['a', 'a', 'b', 'a', 'a', 'a', 'b', 'a']);
    // nginx's own example for weights 5:1:1.
    const picks = firstPicks(createRoundRobinStrategy(), [deployment('a', 5), deployment('b', 1), deployment('c', 1)], 7);
    expect(picks).toEqual(['a', 'a', 'b', 'a', 'c', 'a', 'a']);
  });

  it('lists every other deployment after the pick, in the order the next requests would pick them', () => {
    const strategy = createRoundRobinStrategy();
    const candidates = [deployment('a', 1), deployment('b', 2), deployment('c', 4)];
    const order = strategy.order(candidates, context).map((entry) => entry.id);
    expect(order).toEqual(['c', 'b', 'a']);
    expect(strategy.order(candidates, context)[0]?.id).toBe('b');
  });

  it('keeps one rotation per set of candidates', () => {
    const strategy = createRoundRobinStrategy();
    const first = [deployment('a', 3), deployment('b', 1)];
    const second = [deployment('c', 1), deployment('d', 1)];
    const picks: string[] = [];
    for (let round = 0; round < 4; round += 1) {
      picks.push(strategy.order(first, context)[0]!.id, strategy.order(second, context)[0]!.id);
    }
    expect(picks).toEqual(['a', 'c', 'a', 'd', 'b', 'c', 'a', 'd']);
  });

  it('forgets the least recently used rotation past maxRotations', () => {
    const strategy = createRoundRobinStrategy({ maxRotations: 1 });
    const first = [deployment('a', 1), deployment('b', 1)];
    expect(strategy.order(first, context)[0]?.id).toBe('a');
    strategy.order([deployment('c', 1)], context);
    expect(strategy.order(first, context)[0]?.id).toBe('a');
  });

  it('uses the snapshot weight over the configured one and leaves out weight 0', () => {
    const snapshot = { ...EMPTY_SNAPSHOT, weights: new Map([['a', 0], ['b', 1]]) };
    const order = createRoundRobinStrategy().order([deployment('a', 5), deployment('b', 5), deployment('c', 1)], { ...context, snapshot });
    expect(order.map((entry) => entry.id)).toEqual(['b', 'c']);
  });

  it('keeps the configured order when every weight is 0', () => {
    const snapshot = { ...EMPTY_SNAPSHOT, weights: new Map([['a', 0], ['b', 0]]) };
    const order = createRoundRobinStrategy().order([deployment('a', 1), deployment('b', 1)], { ...context, snapshot });
    expect(order.map((entry) => entry.id)).toEqual(['a', 'b']);
  });
});
