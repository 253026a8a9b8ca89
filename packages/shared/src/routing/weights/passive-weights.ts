import type { DeploymentStats } from '../../state/rolling-stats.js';
import type { WeightedDeployment } from './compute-weights.js';
import { usableWeight } from './deployment-health.js';
import { errorRateFactor } from './health-signals.js';
import { DEFAULT_WEIGHT_POLICY, type WeightPolicy } from './weight-policy.js';

/**
 * Weights from the replicas' own rolling stats alone, for when no prober's table is fresh (none runs, or it
 * stopped): each deployment's configured weight lowered by its error rate, as the prober would, but never below
 * the policy's minimum share. Passive stats never drain a deployment; the circuit breakers stop traffic to one
 * that fails outright. A deployment without enough evidence is left out, so it routes on its configured weight.
 */
export function passiveWeights(
  deployments: readonly WeightedDeployment[],
  stats: ReadonlyMap<string, DeploymentStats>,
  policy: WeightPolicy = DEFAULT_WEIGHT_POLICY,
): Map<string, number> {
  const weights = new Map<string, number>();
  for (const deployment of deployments) {
    const factor = errorRateFactor(stats.get(deployment.id), policy);
    if (factor === undefined) continue;
    weights.set(deployment.id, usableWeight(deployment.configuredWeight) * Math.max(policy.minimumWeightFraction, factor));
  }
  return weights;
}
