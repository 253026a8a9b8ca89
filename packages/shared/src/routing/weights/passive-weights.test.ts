import { describe, expect, it } from 'vitest';
import type { DeploymentStats } from '../../state/rolling-stats.js';
import { passiveWeights } from './passive-weights.js';
import { DEFAULT_WEIGHT_POLICY } from './weight-policy.js';

const deployments = [
  { id: 'a/m', configuredWeight: 2 },
  { id: 'b/m', configuredWeight: 1 },
  { id: 'c/m', configuredWeight: 1 },
];

const stats = (requests: number, errorRate: number): DeploymentStats => ({ requests, errorRate });

describe('passiveWeights', () => {
  it('keeps the configured weight up to the error-rate threshold and lowers it in proportion past it', () => {
    const weights = passiveWeights(deployments, new Map([['a/m', stats(100, 0.01)], ['b/m', stats(100, 0.2)]]));
    expect(weights.get('a/m')).toBe(2);
    expect(weights.get('b/m')).toBeCloseTo(1 - (0.2 - 0.05) / (0.5 - 0.05), 10);
  });

  it('never takes a deployment below the minimum share: only probes and breakers drain one', () => {
    const weights = passiveWeights(deployments, new Map([['a/m', stats(100, 1)]]));
    expect(weights.get('a/m')).toBeCloseTo(2 * DEFAULT_WEIGHT_POLICY.minimumWeightFraction, 10);
  });

  it('leaves out deployments with too few requests to judge, so they route on their configured weight', () => {
    const weights = passiveWeights(deployments, new Map([['a/m', stats(5, 1)]]));
    expect(weights.has('a/m')).toBe(false);
    expect(weights.has('c/m')).toBe(false);
  });
});
