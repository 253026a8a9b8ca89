import type { Capability } from '../../config/schema.js';
import type { Deployment } from '../../catalog/catalog.js';
import type { Strategy, StrategyContext } from '../types.js';
import { compareCosts, expectedCost } from './cost.js';
import { orderInTiers, routable, type RoutableDeployment } from './routable.js';
import type { RequestProfile } from './request-profile.js';

/** How well a deployment's capabilities match a request's; lower is better in every field. */
interface CapabilityFit {
  /** Required capabilities the deployment lacks. */
  readonly missing: number;
  /** Capabilities it has that the request does not need. */
  readonly extra: number;
  readonly cost: number;
}

function fitOf(deployment: Deployment, required: ReadonlySet<Capability>, request?: RequestProfile): CapabilityFit {
  let matched = 0;
  for (const capability of required) if (deployment.capabilities.has(capability)) matched += 1;
  return {
    missing: required.size - matched,
    extra: deployment.capabilities.size - matched,
    cost: expectedCost(deployment, request),
  };
}

/**
 * Closest capability match first, then cost. Deployments with every required capability come first, those with
 * the fewest capabilities beyond them leading: a plain chat request goes to a plain chat model rather than a
 * vision or reasoning one, which tends to be the lighter and cheaper choice even where prices are not set. Among
 * equal matches the cheaper expected cost wins (see expectedCost); equal cost shares the load by weighted random.
 *
 * Deployments lacking a required capability are kept, fewest missing first, so this works as a soft preference
 * when the caller does not filter on capabilities. Without required capabilities it orders by fewest
 * capabilities, then cost. Weight 0 is left out as in the weighted strategy.
 */
export const capabilityStrategy: Strategy = {
  name: 'capability',
  order(candidates: readonly Deployment[], { snapshot, random, request }: StrategyContext): Deployment[] {
    const pool = routable(candidates, snapshot);
    if (pool.length === 0) return [...candidates];
    const required = new Set(request?.requiredCapabilities ?? []);
    const fits = new Map(pool.map((entry) => [entry, fitOf(entry.deployment, required, request)]));
    const compare = (left: RoutableDeployment, right: RoutableDeployment): number => {
      const leftFit = fits.get(left)!;
      const rightFit = fits.get(right)!;
      return leftFit.missing - rightFit.missing || leftFit.extra - rightFit.extra || compareCosts(leftFit.cost, rightFit.cost);
    };
    return orderInTiers(pool, compare, random);
  },
};
