import type { Deployment } from '../catalog/catalog.js';

/** A source of uniform numbers in [0, 1). Injected so that routing decisions are reproducible in tests. */
export type RandomSource = () => number;

/** What a strategy may read: the local snapshot of cluster state. Routing never waits on the network. */
export interface RoutingSnapshot {
  /** Effective weight per deployment id; a deployment missing here uses its configured weight. */
  readonly weights: ReadonlyMap<string, number>;
}

export interface StrategyContext {
  readonly snapshot: RoutingSnapshot;
  readonly random: RandomSource;
}

/** Orders the candidate deployments: the first is tried first, the rest are the failover order. */
export interface Strategy {
  readonly name: string;
  order(candidates: readonly Deployment[], context: StrategyContext): Deployment[];
}
