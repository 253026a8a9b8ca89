import type { Deployment } from '../../catalog/catalog.js';
import type { Strategy, StrategyContext } from '../types.js';
import { routable, weightedShuffle } from './routable.js';

export { effectiveWeight } from './routable.js';

/**
 * Weighted random order without replacement: the first pick is proportional to weight, each later pick is
 * proportional among the rest. Deployments with weight 0 are excluded (drained); if every weight is 0 the
 * candidates keep their configured order, so a request still has somewhere to go.
 */
export const weightedStrategy: Strategy = {
  name: 'weighted',
  order(candidates: readonly Deployment[], { snapshot, random }: StrategyContext): Deployment[] {
    const pool = routable(candidates, snapshot);
    if (pool.length === 0) return [...candidates];
    return weightedShuffle(pool, random);
  },
};
