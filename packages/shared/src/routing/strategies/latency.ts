import type { Deployment } from '../../catalog/catalog.js';
import type { Strategy, StrategyContext } from '../types.js';
import { orderInTiers, routable, weightedShuffle, type RoutableDeployment } from './routable.js';

export interface LatencyOptions {
  /** The band reaches this fraction above the best latency. Default 0.2 (20%). */
  readonly toleranceRatio?: number;
  /** …or this many milliseconds above it, whichever is wider. Default 50 ms, so fast deployments still share. */
  readonly toleranceMs?: number;
}

const DEFAULT_TOLERANCE_RATIO = 0.2;
const DEFAULT_TOLERANCE_MS = 50;

/**
 * Lowest rolling latency first: mean time to first token for streams, mean total latency otherwise (without a
 * request profile, total latency). Deployments within a tolerance band of the best share the load by weighted
 * random, so near-equal ones are not starved by noise; the rest follow, fastest first.
 *
 * A deployment with no value for the metric (no stats yet, or no streams when the request streams) is unknown and
 * is put in the band: it gets its weighted share, which is how it acquires stats. Otherwise a new or long-idle
 * deployment would never be tried. Weight 0 is left out as in the weighted strategy.
 */
export function createLatencyStrategy(options: LatencyOptions = {}): Strategy {
  const toleranceRatio = options.toleranceRatio ?? DEFAULT_TOLERANCE_RATIO;
  const toleranceMs = options.toleranceMs ?? DEFAULT_TOLERANCE_MS;
  return {
    name: 'latency',
    order(candidates: readonly Deployment[], { snapshot, random, request }: StrategyContext): Deployment[] {
      const pool = routable(candidates, snapshot);
      if (pool.length === 0) return [...candidates];
      const latencyOf = (entry: RoutableDeployment): number | undefined => {
        const stats = snapshot.stats.get(entry.deployment.id);
        return request?.stream ? stats?.meanTtftMs : stats?.meanLatencyMs;
      };
      const known = pool.map(latencyOf).filter((latency) => latency !== undefined);
      const best = Math.min(...known);
      const bandLimit = best + Math.max(best * toleranceRatio, toleranceMs);
      const inBand = (entry: RoutableDeployment): boolean => {
        const latency = latencyOf(entry);
        return latency === undefined || latency <= bandLimit;
      };
      const band = pool.filter(inBand);
      const slower = pool.filter((entry) => !inBand(entry));
      return [
        ...weightedShuffle(band, random),
        ...orderInTiers(slower, (left, right) => latencyOf(left)! - latencyOf(right)!, random),
      ];
    },
  };
}

export const latencyStrategy: Strategy = createLatencyStrategy();
