import { describe, expect, it } from 'vitest';
import type { Deployment } from '../../catalog/catalog.js';
import type { DeploymentStats } from '../../state/rolling-stats.js';
import { EMPTY_SNAPSHOT, type RoutingSnapshot, type Strategy, type StrategyContext } from '../types.js';
import { createLatencyStrategy, latencyStrategy } from './latency.js';
import { seededRandom } from '../../test-support/seeded-random.js';
import { testDeployment } from '../../test-support/deployments.js';

const deployment = (id: string, weight = 1): Deployment => testDeployment(id, { weight });

function withStats(stats: Record<string, Partial<DeploymentStats>>): RoutingSnapshot {
  const entries = Object.entries(stats).map(([id, values]): [string, DeploymentStats] => [id, { requests: 10, errorRate: 0, ...values }]);
  return { ...EMPTY_SNAPSHOT, stats: new Map(entries) };
}

function shareFirst(strategy: Strategy, candidates: Deployment[], context: Omit<StrategyContext, 'random'>, id: string): number {
  const random = seededRandom(42);
  const rounds = 10_000;
  let first = 0;
  for (let index = 0; index < rounds; index += 1) {
    if (strategy.order(candidates, { ...context, random })[0]?.id === id) first += 1;
  }
  return first / rounds;
}

const ids = (order: Deployment[]): string[] => order.map((entry) => entry.id);

describe('the latency strategy', () => {
  it('sends every request to a clearly faster deployment', () => {
    const snapshot = withStats({ slow: { meanLatencyMs: 1_000 }, fast: { meanLatencyMs: 200 } });
    expect(shareFirst(latencyStrategy, [deployment('slow'), deployment('fast')], { snapshot }, 'fast')).toBe(1);
  });

  it('compares time to first token for streams and total latency otherwise', () => {
    const snapshot = withStats({ a: { meanTtftMs: 100, meanLatencyMs: 3_000 }, b: { meanTtftMs: 600, meanLatencyMs: 900 } });
    const candidates = [deployment('a'), deployment('b')];
    const random = seededRandom(1);
    const stream = { stream: true, estimatedPromptTokens: 100 };
    expect(ids(latencyStrategy.order(candidates, { snapshot, random, request: stream }))).toEqual(['a', 'b']);
    expect(ids(latencyStrategy.order(candidates, { snapshot, random, request: { ...stream, stream: false } }))).toEqual(['b', 'a']);
    expect(ids(latencyStrategy.order(candidates, { snapshot, random }))).toEqual(['b', 'a']);
  });

  it('shares the load by weight among deployments within 20% of the best (3:1 → 75% ± 3%)', () => {
    const snapshot = withStats({ a: { meanLatencyMs: 1_190 }, b: { meanLatencyMs: 1_000 } });
    const share = shareFirst(latencyStrategy, [deployment('a', 3), deployment('b', 1)], { snapshot }, 'a');
    expect(share).toBeGreaterThan(0.72);
    expect(share).toBeLessThan(0.78);
  });

  it('widens the band to 50 ms for fast deployments', () => {
    const snapshot = withStats({ a: { meanLatencyMs: 85 }, b: { meanLatencyMs: 40 } });
    const share = shareFirst(latencyStrategy, [deployment('a'), deployment('b')], { snapshot }, 'a');
    expect(share).toBeGreaterThan(0.47);
    expect(share).toBeLessThan(0.53);
  });

  it('takes the band from its options', () => {
    const strict = createLatencyStrategy({ toleranceRatio: 0, toleranceMs: 0 });
    const snapshot = withStats({ a: { meanLatencyMs: 85 }, b: { meanLatencyMs: 84 } });
    expect(shareFirst(strict, [deployment('a'), deployment('b')], { snapshot }, 'b')).toBe(1);
  });

  it('orders the deployments outside the band by latency, after the band', () => {
    const snapshot = withStats({ a: { meanLatencyMs: 100 }, b: { meanLatencyMs: 900 }, c: { meanLatencyMs: 500 }, d: { meanLatencyMs: 140 } });
    const order = ids(latencyStrategy.order([deployment('a'), deployment('b'), deployment('c'), deployment('d')], { snapshot, random: seededRandom(5) }));
    expect(order.slice(0, 2).sort()).toEqual(['a', 'd']);
    expect(order.slice(2)).toEqual(['c', 'b']);
  });

  it('explores a deployment without stats by giving it its weighted share of the band', () => {
    const snapshot = withStats({ known: { meanLatencyMs: 200 }, slow: { meanLatencyMs: 5_000 } });
    const candidates = [deployment('known'), deployment('new'), deployment('slow')];
    const share = shareFirst(latencyStrategy, candidates, { snapshot }, 'new');
    expect(share).toBeGreaterThan(0.47);
    expect(share).toBeLessThan(0.53);
  });

  it('counts a deployment that has served no streams as unknown for a stream', () => {
    const snapshot = withStats({ a: { meanTtftMs: 100, meanLatencyMs: 900 }, b: { meanLatencyMs: 50 }, c: { meanTtftMs: 2_000 } });
    const order = ids(latencyStrategy.order([deployment('a'), deployment('b'), deployment('c')], { snapshot, random: seededRandom(5), request: { stream: true, estimatedPromptTokens: 10 } }));
    expect(order.slice(0, 2).sort()).toEqual(['a', 'b']);
    expect(order[2]).toBe('c');
  });

  it('leaves out a drained deployment however fast it is', () => {
    const snapshot = { ...withStats({ a: { meanLatencyMs: 10 }, b: { meanLatencyMs: 900 } }), weights: new Map([['a', 0]]) };
    expect(ids(latencyStrategy.order([deployment('a'), deployment('b')], { snapshot, random: seededRandom(5) }))).toEqual(['b']);
  });
});
