import type { Deployment } from '../../catalog/catalog.js';
import type { RandomSource, RoutingSnapshot } from '../types.js';

/** A deployment with the weight it routes with right now. */
export interface RoutableDeployment {
  readonly deployment: Deployment;
  readonly weight: number;
}

export function effectiveWeight(deployment: Deployment, snapshot: RoutingSnapshot): number {
  return snapshot.weights.get(deployment.id) ?? deployment.weight;
}

/**
 * The candidates a strategy chooses between, with their effective weights (the snapshot's, else the configured
 * one), in candidate order. Weight 0 means drained, so those are left out. Empty when every weight is 0: each
 * strategy then returns the candidates in their configured order, so a request still has somewhere to go.
 */
export function routable(candidates: readonly Deployment[], snapshot: RoutingSnapshot): RoutableDeployment[] {
  return candidates
    .map((deployment) => ({ deployment, weight: effectiveWeight(deployment, snapshot) }))
    .filter((entry) => entry.weight > 0);
}

/**
 * Weighted random order without replacement: the first pick is proportional to weight, each later pick is
 * proportional among the rest. Draws one random number per entry.
 */
export function weightedShuffle(entries: readonly RoutableDeployment[], random: RandomSource): Deployment[] {
  const pool = [...entries];
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
}

/**
 * Orders entries by `compare` (stable) and shares each tier of equals (compare = 0 between neighbours) by
 * weighted random, so equally good deployments split the load by weight instead of the first one taking it all.
 */
export function orderInTiers(
  entries: readonly RoutableDeployment[],
  compare: (left: RoutableDeployment, right: RoutableDeployment) => number,
  random: RandomSource,
): Deployment[] {
  const sorted = [...entries].sort(compare);
  const ordered: Deployment[] = [];
  let tierStart = 0;
  for (let index = 1; index <= sorted.length; index += 1) {
    if (index < sorted.length && compare(sorted[index - 1]!, sorted[index]!) === 0) continue;
    const tier = sorted.slice(tierStart, index);
    ordered.push(...(tier.length === 1 ? [tier[0]!.deployment] : weightedShuffle(tier, random)));
    tierStart = index;
  }
  return ordered;
}
