import { describe, expect, it } from 'vitest';
import type { Deployment } from '../../catalog/catalog.js';
import type { DeploymentStats } from '../../state/rolling-stats.js';
import { EMPTY_SNAPSHOT, type Strategy, type StrategyContext } from '../types.js';
import { BUILT_IN_STRATEGY_NAMES, StrategyRegistry } from './registry.js';
import { routable } from './routable.js';
import { seededRandom } from '../../test-support/seeded-random.js';
import { testDeployment } from '../../test-support/deployments.js';

const deployment = (id: string, weight = 1): Deployment => testDeployment(id, { weight });

// A user's strategy, as it would sit in its own file: highest output tokens per second first.
const fastestOutputStrategy: Strategy = {
  name: 'fastest-output',
  order(candidates: readonly Deployment[], { snapshot }: StrategyContext): Deployment[] {
    const pool = routable(candidates, snapshot);
    if (pool.length === 0) return [...candidates];
    const speed = (deployment: Deployment): number => snapshot.stats.get(deployment.id)?.tokensPerSecond ?? 0;
    return pool.map((entry) => entry.deployment).sort((left, right) => speed(right) - speed(left));
  },
};

describe('the strategy registry', () => {
  it('holds every built-in strategy under its name', () => {
    const registry = new StrategyRegistry();
    expect(registry.names()).toEqual([...BUILT_IN_STRATEGY_NAMES]);
    for (const name of BUILT_IN_STRATEGY_NAMES) expect(registry.get(name)?.name).toBe(name);
  });

  it('returns undefined for an unknown name', () => {
    expect(new StrategyRegistry().get('fastest')).toBeUndefined();
  });

  it('routes with a user strategy once it is registered', () => {
    const registry = new StrategyRegistry().register(fastestOutputStrategy);
    const stats = new Map<string, DeploymentStats>([
      ['a', { requests: 10, errorRate: 0, tokensPerSecond: 40 }],
      ['b', { requests: 10, errorRate: 0, tokensPerSecond: 120 }],
    ]);
    const order = registry.get('fastest-output')!.order([deployment('a'), deployment('b')], { snapshot: { ...EMPTY_SNAPSHOT, stats }, random: seededRandom(1) });
    expect(order.map((entry) => entry.id)).toEqual(['b', 'a']);
  });

  it('refuses a second strategy with a name already taken', () => {
    expect(() => new StrategyRegistry().register({ ...fastestOutputStrategy, name: 'cost' })).toThrow(/"cost" is already registered/);
  });

  it('refuses a name that is not lower-case words joined by hyphens', () => {
    expect(() => new StrategyRegistry().register({ ...fastestOutputStrategy, name: 'Fastest Output' })).toThrow(/lower-case/);
  });

  it('gives each registry its own round-robin rotation', () => {
    const candidates = [deployment('a'), deployment('b')];
    const context = { snapshot: EMPTY_SNAPSHOT, random: seededRandom(1) };
    const first = new StrategyRegistry().get('round-robin')!;
    const second = new StrategyRegistry().get('round-robin')!;
    expect(first.order(candidates, context)[0]?.id).toBe('a');
    expect(second.order(candidates, context)[0]?.id).toBe('a');
    expect(first.order(candidates, context)[0]?.id).toBe('b');
  });
});
