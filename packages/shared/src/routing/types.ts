import type { Deployment } from '../catalog/catalog.js';
import type { DeploymentStats } from '../state/rolling-stats.js';
import type { RequestProfile } from './strategies/request-profile.js';

/** A source of uniform numbers in [0, 1). Injected so that routing decisions are reproducible in tests. */
export type RandomSource = () => number;

/** What a strategy may read: the local snapshot of cluster state. Routing never waits on the network. */
export interface RoutingSnapshot {
  /** Effective weight per deployment id; a deployment missing here uses its configured weight. */
  readonly weights: ReadonlyMap<string, number>;
  /** Requests in flight per deployment, across every live replica. */
  readonly inFlight: ReadonlyMap<string, number>;
  /** Rolling stats per deployment over the last minute, from every replica. */
  readonly stats: ReadonlyMap<string, DeploymentStats>;
  /** Deployments whose circuit is open. */
  readonly openCircuits: ReadonlySet<string>;
  /** Gateway replicas alive right now (1 in embedded mode). */
  readonly replicas: number;
}

export const EMPTY_SNAPSHOT: RoutingSnapshot = {
  weights: new Map(),
  inFlight: new Map(),
  stats: new Map(),
  openCircuits: new Set(),
  replicas: 1,
};

export interface StrategyContext {
  readonly snapshot: RoutingSnapshot;
  readonly random: RandomSource;
  /** The request being routed; strategies that need it (latency, cost, capability) use documented defaults without. */
  readonly request?: RequestProfile;
}

/** Orders the candidate deployments: the first is tried first, the rest are the failover order. */
export interface Strategy {
  readonly name: string;
  order(candidates: readonly Deployment[], context: StrategyContext): Deployment[];
}
