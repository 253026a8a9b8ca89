import {
  DEFAULT_WEIGHT_POLICY,
  computeWeights,
  type DeploymentObservation,
  type DeploymentStats,
  type ProbeOutcome,
  type WeightPolicy,
  type WeightedDeployment,
} from '@dosrouter/shared';
import type { WeightsStore, WeightsUpdate } from './weights-store.js';

export type StatsReader = (deploymentIds: readonly string[]) => Promise<ReadonlyMap<string, DeploymentStats>>;

export interface WeightsKeeperOptions {
  /** Every deployment of the config, probed or not: the table lists them all. */
  readonly deployments: readonly WeightedDeployment[];
  readonly store: WeightsStore;
  /** The replicas' rolling stats; when it fails, the step goes on without them. */
  readonly readStats: StatsReader;
  readonly clock?: () => number;
  readonly policy?: WeightPolicy;
}

/**
 * Turns evidence into the published table, the same way in the prober process (Redis store) and in an embedded
 * gateway (memory store): every probe result is one step for its deployment, and a periodic recompute is one step
 * for all of them with the replicas' rolling stats only. Each step publishes the table.
 */
export class WeightsKeeper {
  private readonly clock: () => number;
  private readonly policy: WeightPolicy;
  private deployments: readonly WeightedDeployment[];

  constructor(private readonly options: WeightsKeeperOptions) {
    this.clock = options.clock ?? Date.now;
    this.policy = options.policy ?? DEFAULT_WEIGHT_POLICY;
    this.deployments = options.deployments;
  }

  /** A config reload: the next steps compute the table for these deployments (configured weights included). */
  useDeployments(deployments: readonly WeightedDeployment[]): void {
    this.deployments = deployments;
  }

  /** One probe of one deployment, with that deployment's current stats. */
  async recordProbe(deploymentId: string, probe: ProbeOutcome): Promise<WeightsUpdate> {
    const stats = await this.stats([deploymentId]);
    const observation: DeploymentObservation = { probe, ...(stats.has(deploymentId) ? { stats: stats.get(deploymentId) } : {}) };
    return this.step(new Map([[deploymentId, observation]]));
  }

  /** Every deployment's stats, without probes: error rates move weights between probes, and the table stays fresh. */
  async recompute(): Promise<WeightsUpdate> {
    const stats = await this.stats(this.deployments.map((deployment) => deployment.id));
    return this.step(new Map([...stats].map(([id, deploymentStats]) => [id, { stats: deploymentStats }] as const)));
  }

  private step(observations: ReadonlyMap<string, DeploymentObservation>): Promise<WeightsUpdate> {
    const now = this.clock();
    return this.options.store.update(
      (state) => computeWeights(this.deployments, state.health, observations, now, this.policy).health,
      now,
    );
  }

  private async stats(deploymentIds: readonly string[]): Promise<ReadonlyMap<string, DeploymentStats>> {
    try {
      return await this.options.readStats(deploymentIds);
    } catch {
      return new Map();
    }
  }
}
