import type { Express, Request, RequestHandler, Response } from 'express';
import { effectiveWeight, expectedCost, type PlannedStep, type RoutePlan, type RoutingSnapshot } from '@dosrouter/shared';
import { planRequest, type PlanningDependencies } from '../proxy/plan-request.js';
import { contextOf } from '../request/request-context.js';
import { validateChatRequest } from '../validation/chat-request.js';
import { validateMessagesRequest } from '../validation/messages-request.js';
import { validateResponsesRequest } from '../validation/responses-request.js';
import type { ProxiedRequest } from '../validation/request-fields.js';
import { beginResponsesTurn, type ResponsesState } from '../proxy/ingress/responses-state.js';

/**
 * `POST /v1/router/explain`: the routing decision for a chat completion request, made exactly as the real request
 * would be (planRequest: same rules, classifier, filters, the caller's key, strategy and snapshot) but without
 * calling any backend. Strategies that draw at random (weighted, ties) may order differently on the next call; the
 * candidates' facts show why. A Messages body is explained as `POST /v1/messages` would route it when the request
 * says so: `?protocol=anthropic`, or an `anthropic-version` header (every Anthropic SDK sends one); a Responses body
 * with `?protocol=responses`, its `previous_response_id` continued (`pin` then names the deployment it stays on).
 */
export function registerExplainRoute(
  app: Express,
  context: RequestHandler | RequestHandler[],
  body: RequestHandler,
  dependencies: PlanningDependencies & { readonly responses?: ResponsesState },
): void {
  app.post('/v1/router/explain', context, body, async function explainRoute(request: Request, response: Response) {
    const protocol = explainedProtocol(request);
    // A Responses request is explained as its Chat translation would be routed, continuing `previous_response_id`
    // (and pinned to the deployment that served it) exactly as `POST /v1/responses` does.
    if (protocol === 'responses') await beginResponsesTurn(dependencies.responses, request, response);
    const proxied = VALIDATORS[protocol](request.body as Record<string, unknown>);
    const path = PATHS[protocol];
    const { plan, snapshot, unavailable } = planRequest(dependencies, contextOf(response).config, 'chat/completions', path, proxied, request, response);
    const error = plan.attempts.length === 0 ? unavailable() : undefined;
    // A key refused every model answers the real request's 403 itself, with nothing of the plan: the deployments
    // it may not use are none of its business.
    if (error?.status === 403) throw error;
    const explanation = explainPlan(plan, snapshot, protocol);
    if (error) Object.assign(explanation, { error: error.toBody().error, status: error.status });
    response.json(explanation);
  });
}

/** The explanation of a plan: what `/v1/router/explain` and the dashboard's explain box answer. */
export function explainPlan(plan: RoutePlan, snapshot: RoutingSnapshot, protocol: ExplainedProtocol): Record<string, unknown> {
  const { profile } = plan.facts;
  return {
    object: 'router.explanation',
    protocol,
    requested_model: plan.requestedModel,
    target: { kind: plan.targetKind, name: plan.target },
    rule: plan.rule ?? null,
    strategy: plan.strategy,
    request: {
      stream: profile.stream,
      estimated_prompt_tokens: profile.estimatedPromptTokens,
      max_output_tokens: profile.maxOutputTokens ?? null,
      required_capabilities: profile.requiredCapabilities ?? [],
    },
    classification: plan.classification
      ? {
          tier: plan.classification.tier,
          confidence: round(plan.classification.confidence),
          score: round(plan.classification.score),
          agentic: plan.classification.agentic,
          signals: plan.classification.signals,
          reasons: plan.classification.reasons,
        }
      : null,
    // Models and deployments the caller's key may not use are left out: their weights, load, error rates and
    // costs are not the caller's to see, nor that they exist.
    steps: visibleSteps(plan).map((step) => ({
      model: step.name,
      source: step.source,
      strategy: step.strategy,
      candidates: step.verdicts.map((verdict) => {
        const { deployment } = verdict;
        const stats = snapshot.stats.get(deployment.id);
        return {
          deployment: deployment.id,
          passed: verdict.passed,
          filter: verdict.filter ?? null,
          reason: verdict.reason ?? null,
          weight: effectiveWeight(deployment, snapshot),
          configured_weight: deployment.weight,
          in_flight: snapshot.inFlight.get(deployment.id) ?? 0,
          mean_latency_ms: round(stats?.meanLatencyMs),
          mean_ttft_ms: round(stats?.meanTtftMs),
          error_rate: round(stats?.errorRate),
          expected_cost_usd: expectedCost(deployment, profile),
          context_window: deployment.contextWindow,
          capabilities: [...deployment.capabilities],
        };
      }),
      order: step.order.map((deployment) => deployment.id),
    })),
    attempts: plan.attempts.map((deployment) => deployment.id),
    retry: plan.retry,
    session: plan.session ?? null,
    pin: plan.pin ?? null,
    kept_drained: plan.keptDrained,
  };
}

export type ExplainedProtocol = 'openai' | 'anthropic' | 'responses';

const VALIDATORS: Record<ExplainedProtocol, (body: Record<string, unknown>) => ProxiedRequest> = {
  openai: validateChatRequest,
  anthropic: validateMessagesRequest,
  responses: validateResponsesRequest,
};

const PATHS: Record<ExplainedProtocol, string> = { openai: '/v1/chat/completions', anthropic: '/v1/messages', responses: '/v1/responses' };

/** `?protocol=anthropic` or an `anthropic-version` header: Messages; `?protocol=responses`: Responses; else Chat. */
function explainedProtocol(request: Request): ExplainedProtocol {
  if (request.query.protocol === 'responses') return 'responses';
  return request.query.protocol === 'anthropic' || request.headers['anthropic-version'] !== undefined ? 'anthropic' : 'openai';
}

function visibleSteps(plan: RoutePlan): PlannedStep[] {
  const visible: PlannedStep[] = [];
  for (const step of plan.steps) {
    const verdicts = step.verdicts.filter((verdict) => verdict.filter !== 'key_models');
    if (verdicts.length > 0 || step.verdicts.length === 0) visible.push({ ...step, verdicts });
  }
  return visible;
}

function round(value: number | undefined): number | null {
  return value === undefined ? null : Math.round(value * 1000) / 1000;
}
