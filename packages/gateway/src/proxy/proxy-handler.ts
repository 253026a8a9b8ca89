import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Request, Response } from 'express';
import {
  AttemptSequence,
  GatewayError,
  failureKind,
  type ApiKeyRecord,
  type Deployment,
  type GatewayConfig,
  type RoutePlan,
} from '@dosrouter/shared';
import type { GatewayMetrics } from '../telemetry/metrics.js';
import type { Operation } from '../upstream/backend.js';
import type { BackendRegistry } from '../upstream/backend-registry.js';
import { runAttempt, type AttemptResult } from '../upstream/attempt.js';
import { estimateUsage } from '../usage/estimate-usage.js';
import { usageRecordOf } from '../usage/usage-record-of.js';
import type { UsageRecorder } from '../usage/usage-recorder.js';
import type { SpendObservations } from '../usage/spend-observations.js';
import type { ProxiedRequest } from '../validation/request-fields.js';
import { AnswerPricing } from './answer-pricing.js';
import { planRequest, type PlanningDependencies } from './plan-request.js';
import { RequestLimits } from './request-limits.js';
import { outcomeOf, type RequestOutcome } from './request-outcome.js';

export interface ProxyDependencies extends PlanningDependencies {
  readonly pricing: AnswerPricing;
  readonly backends: BackendRegistry;
  readonly limits: GatewayConfig['limits'];
  readonly clock: () => number;
  readonly metrics: GatewayMetrics;
  /** Absent when usage recording is off (`usage.enabled: false`). */
  readonly usage?: UsageRecorder;
  /** Cluster mode: the spend figures admissions return, kept for soft budgets and the fallback limiter. */
  readonly spendObservations?: SpendObservations;
}

/** A retry-after wait ends this much after the backend's time, so that the circuit it opened is half-open by then. */
const RETRY_AFTER_MARGIN_MS = 50;

/**
 * The handler for one forwarded operation: validate → plan the route (a pure function of the request and the local
 * snapshot: rules, virtual models, filters, strategy, fallbacks) → admit (one Redis round trip, only when limits
 * apply) → attempts, driven by the plan's retry policy, until one answers. Nothing reaches the client before an
 * attempt succeeds, so failover is invisible; the last failure is what the client sees when none does.
 */
export function createProxyHandler(
  dependencies: ProxyDependencies,
  operation: Operation,
  validate: (body: Record<string, unknown>) => ProxiedRequest,
) {
  const { cluster, metrics, clock } = dependencies;
  return async function proxyHandler(request: Request, response: Response): Promise<void> {
    const outcome = outcomeOf(response);
    outcome.handling = true;
    try {
      await forward(request, response, outcome);
    } finally {
      outcome.handling = false;
      // The client left while an attempt was still settling its usage: its record is written now, with that usage.
      const { closed } = outcome;
      if (closed && dependencies.usage && outcome.accounted && !outcome.usageRecorded) {
        outcome.usageRecorded = true;
        dependencies.usage.record(usageRecordOf(outcome, closed.status, closed.at, cluster.replica));
      }
    }
  };

  async function forward(request: Request, response: Response, outcome: RequestOutcome): Promise<void> {
    const proxied = validate(request.body as Record<string, unknown>);
    outcome.requestedModel = proxied.model;
    outcome.stream = proxied.stream;
    const apiKey = response.locals.apiKey as ApiKeyRecord | undefined;
    // From here on the request has a usage record, whatever becomes of it.
    outcome.accounted = true;
    if (apiKey) outcome.keyId = apiKey.id;
    const { plan, unavailable } = planRequest(dependencies, operation, request.route.path as string, proxied, request, response);
    outcome.model = plan.target;
    outcome.tier = plan.classification?.tier;
    outcome.rule = plan.rule;
    outcome.strategy = plan.strategy.name;
    if (plan.attempts.length === 0) throw unavailable();

    const limits = new RequestLimits(
      cluster.limiter,
      metrics,
      // Leases are held under an id of the gateway's own: clients may send one x-request-id on every request, and
      // concurrent requests sharing a lease would slip past a concurrency limit.
      randomUUID(),
      dependencies.limits,
      request.headers.authorization,
      Number(response.locals.bodyBytes) || 0,
      proxied.body,
      apiKey,
      dependencies.spendObservations,
      // Without usage records nothing adds to a key's spend: its budget is not checked either.
      dependencies.usage !== undefined,
    );
    let controller: AbortController | undefined;
    const clientGone = new AbortController();
    // One listener per request, in place before the first await: when the response is over, release the limits; if
    // it ended early, the client went away, so abort the attempt in flight (or the wait before the next one).
    response.once('close', () => {
      limits.release(outcome.usage?.totalTokens, response.statusCode < 400);
      if (response.writableFinished) return;
      clientGone.abort();
      controller?.abort(new Error('client closed the connection'));
    });
    const start = await limits.admit(plan.attempts, plan.target);
    // Slots taken while the client was leaving: the listener has already run, so release them here.
    const leftDuringAdmission = (): boolean => {
      if (!clientGone.signal.aborted) return false;
      limits.release(undefined, false);
      return true;
    };
    if (leftDuringAdmission()) {
      outcome.errorCode = 'client_closed';
      return;
    }

    const sequence = new AttemptSequence(plan.attempts, plan.retry, outcome.receivedAt, dependencies.random);
    for (const skipped of plan.attempts.slice(0, start)) sequence.skipped(skipped);
    const admitted = new Set<string>(start < plan.attempts.length ? [plan.attempts[start]!.id] : []);
    let lastError: GatewayError | undefined;
    for (let next = sequence.next(clock()); next && !clientGone.signal.aborted; next = sequence.next(clock())) {
      const { deployment, delayMs } = next;
      if (delayMs > 0 && !(await sleep(delayMs, true, { signal: clientGone.signal }).catch(() => false))) break;
      if (!admitted.has(deployment.id)) {
        const room = await limits.admitFailover(deployment);
        if (leftDuringAdmission()) break;
        if (!room) {
          sequence.skipped(deployment);
          continue;
        }
        admitted.add(deployment.id);
      }
      controller = new AbortController();
      const result = await attempt(dependencies, { operation, proxied, plan, outcome, response, controller, extraHeaders: limits.headers }, deployment);
      if (result.ok) {
        sequence.succeeded(deployment);
        return;
      }
      lastError = result.error;
      const retryAfterMs = retryAfterMsOf(result.error);
      sequence.failed(deployment, failureKind(result.error), clock(), retryAfterMs === undefined ? undefined : retryAfterMs + RETRY_AFTER_MARGIN_MS);
    }
    if (clientGone.signal.aborted) {
      outcome.errorCode = 'client_closed';
      return;
    }
    if (lastError) Object.assign(lastError.headers, limits.headers);
    throw lastError ?? new GatewayError(`No deployment of ${plan.target} could take the request within its limits.`, { status: 503, code: 'no_deployment_available', retryable: true });
  }
}

/** The backend's retry-after in milliseconds: exact when it sent `retry-after-ms`, else its seconds. */
function retryAfterMsOf(error: GatewayError): number | undefined {
  return error.retryAfterMs ?? (error.retryAfterSeconds === undefined ? undefined : error.retryAfterSeconds * 1000);
}

/** What every attempt of one client request shares. */
interface RequestAttempts {
  readonly operation: Operation;
  readonly proxied: ProxiedRequest;
  readonly plan: RoutePlan;
  readonly outcome: RequestOutcome;
  readonly response: Response;
  /** Aborts this attempt (client gone, total deadline). */
  readonly controller: AbortController;
  /** Headers every successful answer carries (the key's `x-ratelimit-*`). */
  readonly extraHeaders: Record<string, string>;
}

/** One attempt on one deployment, through its circuit breaker, counted in flight and in the rolling stats. */
async function attempt(dependencies: ProxyDependencies, request: RequestAttempts, deployment: Deployment): Promise<AttemptResult> {
  const { cluster, metrics, clock, pricing, usage } = dependencies;
  const { operation, proxied, plan, outcome, response, controller, extraHeaders } = request;
  // Rounded as the header is: float sums of prices leave noise in the last digits (0.000010000000000000003).
  const settleCost = (): void => {
    outcome.costUsd = Number(pricing.answerCost(plan, deployment, outcome.usage).toFixed(10));
  };
  const backend = dependencies.backends.get(deployment.backend);
  const askForUsage = proxied.stream && !proxied.includeUsage && backend.requestStreamUsage;
  outcome.attempts += 1;
  outcome.deployment = deployment.id;
  outcome.model = deployment.model;
  outcome.firstTokenAt = undefined;
  outcome.usage = undefined;
  outcome.usageEstimated = undefined;
  outcome.costUsd = undefined;
  cluster.inFlight.increment(deployment.id);
  let result: AttemptResult;
  try {
    result = await cluster.breakers.run(deployment.id, () =>
      runAttempt(
        {
          backend,
          deployment,
          operation,
          body: upstreamBody(proxied, deployment, askForUsage),
          stream: proxied.stream,
          dropUsageOnlyChunk: askForUsage,
          controller,
          outcome,
          clock,
          responseHeaders: (tokens) => ({ ...extraHeaders, ...pricing.headers(plan, deployment, outcome.attempts, tokens) }),
          finish: async (status) => {
            settleCost();
            if (!usage) return;
            outcome.usageRecorded = true;
            await usage.commit(usageRecordOf(outcome, status, clock(), cluster.replica));
          },
          estimateUsage: (completion) => estimateUsage(operation, proxied.body, completion),
        },
        response,
      ),
    );
  } finally {
    cluster.inFlight.decrement(deployment.id);
  }
  if (result.ok) {
    // A stream that broke after its first byte did not finish: its cost is settled here.
    if (outcome.costUsd === undefined) settleCost();
    if (outcome.errorCode && outcome.errorCode !== 'client_closed') metrics.recordUpstreamError(deployment.id, outcome.errorCode);
  } else if (result.error.code !== 'circuit_open' && result.error.code !== 'client_closed') {
    metrics.recordUpstreamError(deployment.id, result.error.code);
    const retryAfterMs = retryAfterMsOf(result.error);
    if (result.error.status === 429 && retryAfterMs) cluster.breakers.openFor(deployment.id, retryAfterMs, 'rate limited by the backend');
  }
  recordSample(dependencies, deployment, outcome, result);
  return result;
}

function recordSample(dependencies: ProxyDependencies, deployment: Deployment, outcome: RequestOutcome, result: AttemptResult): void {
  if (outcome.errorCode === 'client_closed' || (!result.ok && result.error.code === 'circuit_open')) return;
  const started = outcome.upstreamStartedAt ?? 0;
  const ended = outcome.upstreamEndedAt ?? started;
  const firstToken = outcome.stream ? outcome.firstTokenAt : undefined;
  dependencies.cluster.stats.record(deployment.id, {
    ok: result.ok && outcome.errorCode === undefined,
    latencyMs: ended - started,
    ttftMs: firstToken === undefined ? undefined : firstToken - started,
    outputTokens: outcome.usage?.completionTokens,
    generationMs: firstToken === undefined ? undefined : ended - firstToken,
  });
}

/** The body sent upstream: the client's, with the backend's model id and, if asked for, stream usage. */
function upstreamBody(proxied: ProxiedRequest, deployment: Deployment, askForUsage: boolean): string {
  const body: Record<string, unknown> = { ...proxied.body, model: deployment.upstreamModel };
  if (askForUsage) body.stream_options = { ...(proxied.body.stream_options as object | undefined), include_usage: true };
  return JSON.stringify(body);
}
