import {
  DEFAULT_EXPECTED_OUTPUT_TOKENS,
  formatUsd,
  usageCostUsd,
  type Deployment,
  type ModelCatalog,
  type PricedTokens,
  type Pricing,
  type RoutePlan,
} from '@dosrouter/shared';
import type { TokenUsage } from '../usage/token-usage.js';

/**
 * What an answer cost and what it saved, at the catalog's prices (cache reads and writes at their own), and the
 * headers that say so with what routing decided. The cost uses the backend's usage when it is known before the headers go out (non-streaming answers);
 * a stream's headers precede its usage, so they carry an estimate: the estimated prompt tokens and the request's
 * max tokens (or 256).
 */
export class AnswerPricing {
  private readonly baseline: Pricing | undefined;

  constructor(catalog: ModelCatalog, savingsBaseline: string | undefined) {
    // The baseline's first configured deployment prices it: savings compare models, not deployments of one.
    this.baseline = savingsBaseline === undefined ? undefined : catalog.resolve(savingsBaseline)?.deployments[0]?.pricing;
  }

  headers(plan: RoutePlan, deployment: Deployment, attempts: number, usage: TokenUsage | undefined): Record<string, string> {
    const tokens = tokensOf(plan, usage);
    const cost = usageCostUsd(deployment.pricing, tokens);
    const headers: Record<string, string> = {
      'x-dosrouter-model': deployment.model,
      'x-dosrouter-deployment': deployment.id,
      'x-dosrouter-strategy': plan.strategy.name,
      'x-dosrouter-attempts': String(attempts),
      'x-dosrouter-cost-usd': formatUsd(cost),
    };
    if (plan.classification) headers['x-dosrouter-tier'] = plan.classification.tier;
    if (plan.economized) headers['x-dosrouter-profile'] = 'eco';
    if (plan.rule) headers['x-dosrouter-rule'] = encodeURIComponent(plan.rule);
    if (this.baseline) headers['x-dosrouter-savings'] = formatUsd(usageCostUsd(this.baseline, tokens) - cost);
    return headers;
  }

  /** The cost recorded for a finished answer: from usage, else the estimate. */
  answerCost(plan: RoutePlan, deployment: Deployment, usage: TokenUsage | undefined): number {
    return usageCostUsd(deployment.pricing, tokensOf(plan, usage));
  }
}

/** The answer's usage, cache counts included, else the estimate (nothing of which is known to be cached). */
function tokensOf(plan: RoutePlan, usage: TokenUsage | undefined): PricedTokens {
  if (usage) return usage;
  const { estimatedPromptTokens, maxOutputTokens } = plan.facts.profile;
  return { promptTokens: estimatedPromptTokens, completionTokens: maxOutputTokens ?? DEFAULT_EXPECTED_OUTPUT_TOKENS };
}
