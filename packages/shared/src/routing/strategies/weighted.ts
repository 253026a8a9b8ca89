import type { Deployment } from '../../catalog/catalog.js';
import type { RoutingSnapshot, Strategy, StrategyContext } from '../types.js';

export function effectiveWeight(deployment: Deployment, snapshot: RoutingSnapshot): number {
  return snapshot.weights.get(deployment.id) ?? deployment.weight;
}

/**
 * Weighted random order without replacement: the first pick is proportional to weight, each later pick is
 * proportional among the rest. Deployments with weight 0 are excluded (drained); if every weight is 0 the
 * candidates keep their configured order, so a request still has somewhere to go.
 */
export const weightedStrategy: Strategy = {
  name: 'weighted',
  order(candidates: readonly Deployment[], { snapshot, random }: StrategyContext): Deployment[] {
    const pool = candidates
      .map((deployment) => ({ deployment, weight: effectiveWeight(deployment, snapshot) }))
      .filter((entry) => entry.weight > 0);
    if (pool.length === 0) return [...candidates];
    const ordered: Deployment[] = [];
    let total = pool.reduce((sum, entry) => sum + entry.weight, 0);
    while (pool.length > 0) {
      let target = random() * total;
      let index = 0;
      while (index < pool.length - 1 && target >= pool[index]!.weight) {
        target -= pool[index]!.weight;
        index += 1;
      }
      const [picked] = pool.splice(index, 1);
      ordered.push(picked!.deployment);
      total -= picked!.weight;
    }
    return ordered;
  },
};
