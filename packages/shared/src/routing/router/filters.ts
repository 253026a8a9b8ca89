import type { Deployment } from '../../catalog/catalog.js';
import type { RequestProfile } from '../strategies/request-profile.js';
import { effectiveWeight } from '../strategies/routable.js';
import type { RoutingSnapshot } from '../types.js';

/** The share of the estimated prompt the context-window filter counts. */
const PROMPT_ESTIMATE_SLACK = 0.9;

/** The filters, in the order they run: the first a deployment fails is the one reported. */
export const FILTER_NAMES = ['key_models', 'capabilities', 'context_window', 'max_output', 'circuit_open', 'weight_zero'] as const;
export type FilterName = (typeof FILTER_NAMES)[number];

/** One candidate and what the filters made of it. */
export interface CandidateVerdict {
  readonly deployment: Deployment;
  readonly passed: boolean;
  /** The filter that rejected it. */
  readonly filter?: FilterName;
  /** Why, in words, for the explain endpoint and error messages. */
  readonly reason?: string;
}

export interface FilterInput {
  readonly request: RequestProfile;
  readonly snapshot: RoutingSnapshot;
  /** The models the caller's API key may use; absent means all. */
  readonly allowedModel?: (model: string) => boolean;
  /**
   * Keep deployments whose weight is 0. Set when every candidate of the whole plan would otherwise be drained: the
   * prober may be wrong, and a request that has somewhere to go beats a certain 503.
   */
  readonly keepDrained?: boolean;
}

/**
 * Runs every filter on one candidate. Key permissions come from the caller and run first; capabilities and sizes
 * are facts of the request; open circuits and weights are this replica's snapshot of the cluster, so filtering never
 * waits on I/O.
 */
export function judgeCandidate(deployment: Deployment, input: FilterInput): CandidateVerdict {
  const { request, snapshot } = input;
  // The caller's permission first: a deployment the key may not use is reported as that and nothing else, so
  // neither an error message nor the explain endpoint tells the caller anything about it.
  if (input.allowedModel && !input.allowedModel(deployment.model)) {
    return reject(deployment, 'key_models', `the API key may not use ${deployment.model}`);
  }
  const missing = (request.requiredCapabilities ?? []).filter((capability) => !deployment.capabilities.has(capability));
  if (missing.length > 0) {
    return reject(deployment, 'capabilities', `lacks ${missing.join(', ')}`);
  }
  const output = request.maxOutputTokens ?? 0;
  const prompt = request.contextTokens ?? request.estimatedPromptTokens;
  // The prompt is an estimate (estimate-tokens.ts, within about 1.5×): it gets 10% benefit of the doubt, and a
  // deployment it wrongly keeps answers context_length_exceeded, which fails over to a larger window.
  if (prompt * PROMPT_ESTIMATE_SLACK + output > deployment.contextWindow) {
    const needed = output > 0 ? `about ${prompt} prompt + ${output} output tokens` : `about ${prompt} prompt tokens`;
    return reject(deployment, 'context_window', `${needed} exceed its context window of ${deployment.contextWindow}`);
  }
  if (deployment.maxOutputTokens !== undefined && output > deployment.maxOutputTokens) {
    return reject(deployment, 'max_output', `max tokens ${output} exceed its maximum output of ${deployment.maxOutputTokens}`);
  }
  if (snapshot.openCircuits.has(deployment.id)) {
    return reject(deployment, 'circuit_open', 'its circuit is open');
  }
  if (!input.keepDrained && effectiveWeight(deployment, snapshot) <= 0) {
    return reject(deployment, 'weight_zero', 'its routing weight is 0 (drained by the health prober)');
  }
  return { deployment, passed: true };
}

function reject(deployment: Deployment, filter: FilterName, reason: string): CandidateVerdict {
  return { deployment, passed: false, filter, reason };
}

/** Filters that depend on the cluster's health rather than on the request: a request refused by them may be retried later. */
export function isHealthFilter(filter: FilterName | undefined): boolean {
  return filter === 'circuit_open' || filter === 'weight_zero';
}
