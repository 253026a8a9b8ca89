import type { Deployment } from '../../catalog/catalog.js';
import type { Strategy, StrategyContext } from '../types.js';
import { orderInTiers, routable, type RoutableDeployment } from './routable.js';

/**
 * Fewest requests in flight first, counted across every replica (the snapshot's `inFlight`; a deployment missing
 * there has none). Equally busy deployments share the load by weighted random. Weight 0 is left out as in the
 * weighted strategy.
 *
 * The counts are as fresh as the snapshot: between two refreshes every request sees the same counts, so the
 * caller should add this replica's own live counts to keep a burst from landing on one deployment.
 */
export const leastBusyStrategy: Strategy = {
  name: 'least-busy',
  order(candidates: readonly Deployment[], { snapshot, random }: StrategyContext): Deployment[] {
    const pool = routable(candidates, snapshot);
    if (pool.length === 0) return [...candidates];
    const inFlight = (entry: RoutableDeployment): number => snapshot.inFlight.get(entry.deployment.id) ?? 0;
    return orderInTiers(pool, (left, right) => inFlight(left) - inFlight(right), random);
  },
};
