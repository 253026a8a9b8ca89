import type { Deployment } from '../../catalog/catalog.js';
import type { Strategy, StrategyContext } from '../types.js';
import { orderInTiers, routable, type RoutableDeployment } from './routable.js';
import { DEFAULT_ESTIMATED_PROMPT_TOKENS, DEFAULT_EXPECTED_OUTPUT_TOKENS, type RequestProfile } from './request-profile.js';

/** Costs this close (relative) are equal: floating-point sums of the same prices must not break ties. */
const COST_TOLERANCE = 1e-9;

/**
 * What the request is expected to cost on a deployment, in USD: estimated prompt tokens at the input price plus
 * expected output tokens at the output price. Expected output is the request's own cap, else
 * DEFAULT_EXPECTED_OUTPUT_TOKENS (256); it is the same for every deployment, so all are priced for the same work.
 * A deployment that cannot produce that much should have been filtered out before the strategy runs.
 */
export function expectedCost(deployment: Deployment, request?: RequestProfile): number {
  const promptTokens = request?.estimatedPromptTokens ?? DEFAULT_ESTIMATED_PROMPT_TOKENS;
  const outputTokens = request?.maxOutputTokens ?? DEFAULT_EXPECTED_OUTPUT_TOKENS;
  const { inputPerMTok, outputPerMTok } = deployment.pricing;
  return (promptTokens * inputPerMTok + outputTokens * outputPerMTok) / 1_000_000;
}

/** Ascending order of two costs; 0 when they are equal within COST_TOLERANCE. */
export function compareCosts(left: number, right: number): number {
  return Math.abs(left - right) <= COST_TOLERANCE * Math.max(left, right) ? 0 : left - right;
}

/**
 * Cheapest expected cost first (see expectedCost); deployments that cost the same share the load by weighted
 * random. It orders the candidates it is given: the caller's filters (context window, capabilities, open
 * circuits) decide which those are. Weight 0 is left out as in the weighted strategy.
 */
export const costStrategy: Strategy = {
  name: 'cost',
  order(candidates: readonly Deployment[], { snapshot, random, request }: StrategyContext): Deployment[] {
    const pool = routable(candidates, snapshot);
    if (pool.length === 0) return [...candidates];
    const costs = new Map(pool.map((entry) => [entry, expectedCost(entry.deployment, request)]));
    const costOf = (entry: RoutableDeployment): number => costs.get(entry)!;
    return orderInTiers(pool, (left, right) => compareCosts(costOf(left), costOf(right)), random);
  },
};
