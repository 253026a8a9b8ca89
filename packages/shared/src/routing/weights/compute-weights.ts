import type { Deployment } from '../../catalog/catalog.js';
import type { DeploymentStats } from '../../state/rolling-stats.js';
import type { DeploymentHealth } from './deployment-health.js';
import { nextHealth, type ProbeOutcome } from './next-health.js';
import { DEFAULT_WEIGHT_POLICY, type WeightPolicy } from './weight-policy.js';

/** A deployment as the weights engine needs it: `Deployment.id` and `Deployment.weight`. */
export interface WeightedDeployment {
  readonly id: string;
  readonly configuredWeight: number;
}

/** The catalog's deployments as the weights engine sees them. */
export function weightedDeployments(deployments: readonly Deployment[]): WeightedDeployment[] {
  return deployments.map((deployment) => ({ id: deployment.id, configuredWeight: deployment.weight }));
}

/** What was seen of one deployment since the last run. */
export interface DeploymentObservation {
  readonly probe?: ProbeOutcome;
  readonly stats?: DeploymentStats;
}

export interface ComputedWeights {
  /** The next record per listed deployment, to store for the next run. */
  readonly health: Map<string, DeploymentHealth>;
  /** The effective weight per listed deployment, to publish. */
  readonly weights: Map<string, number>;
}

/**
 * One prober run over every deployment: `nextHealth` for each listed one. Deployments no longer listed are dropped
 * from both maps; new ones start healthy at their configured weight before this run's evidence counts.
 */
export function computeWeights(
  deployments: readonly WeightedDeployment[],
  previous: ReadonlyMap<string, DeploymentHealth>,
  inputs: ReadonlyMap<string, DeploymentObservation>,
  now: number,
  policy: WeightPolicy = DEFAULT_WEIGHT_POLICY,
): ComputedWeights {
  const health = new Map<string, DeploymentHealth>();
  const weights = new Map<string, number>();
  for (const deployment of deployments) {
    const observation = inputs.get(deployment.id);
    const next = nextHealth(
      previous.get(deployment.id),
      { configuredWeight: deployment.configuredWeight, probe: observation?.probe, stats: observation?.stats, now },
      policy,
    );
    health.set(deployment.id, next);
    weights.set(deployment.id, next.weight);
  }
  return { health, weights };
}
