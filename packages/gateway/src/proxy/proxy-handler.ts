import type { Request, Response } from 'express';
import {
  GatewayError,
  modelNotFound,
  type Deployment,
  type GatewayConfig,
  type ModelCatalog,
  type RandomSource,
  type Strategy,
} from '@dosrouter/shared';
import type { ClusterState } from '../cluster/cluster-state.js';
import type { GatewayMetrics } from '../telemetry/metrics.js';
import type { Operation } from '../upstream/backend.js';
import type { BackendRegistry } from '../upstream/backend-registry.js';
import { runAttempt, type AttemptResult } from '../upstream/attempt.js';
import type { ProxiedRequest } from '../validation/request-fields.js';
import { RequestLimits } from './request-limits.js';
import { outcomeOf, type RequestOutcome } from './request-outcome.js';

export interface ProxyDependencies {
  readonly catalog: ModelCatalog;
  readonly backends: BackendRegistry;
  readonly strategy: Strategy;
  readonly cluster: ClusterState;
  readonly limits: GatewayConfig['limits'];
  readonly random: RandomSource;
  readonly clock: () => number;
  readonly metrics: GatewayMetrics;
}

/**
 * The handler for one forwarded operation: validate → resolve the model → order its deployments (a pure
 * function of the local snapshot) → admit (one Redis round trip, only when limits apply) → try deployments in
 * order until one answers. A retryable failure moves on to the next deployment while nothing has reached the
 * client; the last failure is what the client sees.
 */
export function createProxyHandler(
  dependencies: ProxyDependencies,
  operation: Operation,
  validate: (body: Record<string, unknown>) => ProxiedRequest,
) {
  const { catalog, strategy, cluster, metrics } = dependencies;
  return async function proxyHandler(request: Request, response: Response): Promise<void> {
    const outcome = outcomeOf(response);
    const proxied = validate(request.body as Record<string, unknown>);
    outcome.requestedModel = proxied.model;
    outcome.stream = proxied.stream;
    const group = catalog.resolve(proxied.model);
    if (!group) throw modelNotFound(proxied.model);
    outcome.model = group.name;
    const order = strategy.order(group.deployments, { snapshot: cluster.snapshot(), random: dependencies.random });

    const limits = new RequestLimits(
      cluster.limiter,
      metrics,
      outcome.requestId,
      dependencies.limits,
      request.headers.authorization,
      Number(response.locals.bodyBytes) || 0,
      proxied.body,
    );
    const start = await limits.admit(order, group.name);

    let controller: AbortController | undefined;
    let clientGone = false;
    // One listener per request: when the response is over, release the limits; if it ended early, the client
    // went away, so abort the attempt in flight.
    response.once('close', () => {
      limits.release(outcome.usage?.totalTokens, response.statusCode < 400);
      if (response.writableFinished) return;
      clientGone = true;
      controller?.abort(new Error('client closed the connection'));
    });

    let lastError: GatewayError | undefined;
    for (const [position, deployment] of order.entries()) {
      if (position < start) continue;
      if (clientGone) break;
      if (position > start && !(await limits.admitFailover(deployment))) continue;
      controller = new AbortController();
      const result = await attempt(dependencies, { operation, proxied, model: group.name, outcome, response, controller, extraHeaders: limits.headers }, deployment);
      if (result.ok) return;
      lastError = result.error;
      if (!result.error.retryable) break;
    }
    if (clientGone) {
      outcome.errorCode = 'client_closed';
      return;
    }
    if (lastError) Object.assign(lastError.headers, limits.headers);
    throw lastError ?? new GatewayError(`No deployment of ${group.name} is available.`, { status: 503, code: 'no_deployment_available' });
  };
}

/** What every attempt of one client request shares. */
interface RequestAttempts {
  readonly operation: Operation;
  readonly proxied: ProxiedRequest;
  /** The configured model being served. */
  readonly model: string;
  readonly outcome: RequestOutcome;
  readonly response: Response;
  /** Aborts this attempt (client gone, total deadline). */
  readonly controller: AbortController;
  /** Headers every successful answer carries (the key's `x-ratelimit-*`). */
  readonly extraHeaders: Record<string, string>;
}

/** One attempt on one deployment, through its circuit breaker, counted in flight and in the rolling stats. */
async function attempt(dependencies: ProxyDependencies, request: RequestAttempts, deployment: Deployment): Promise<AttemptResult> {
  const { cluster, metrics, clock } = dependencies;
  const { operation, proxied, model, outcome, response, controller, extraHeaders } = request;
  const backend = dependencies.backends.get(deployment.backend);
  const askForUsage = proxied.stream && !proxied.includeUsage && backend.requestStreamUsage;
  outcome.attempts += 1;
  outcome.deployment = deployment.id;
  outcome.firstTokenAt = undefined;
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
          responseHeaders: { ...extraHeaders, 'x-dosrouter-model': model, 'x-dosrouter-deployment': deployment.id },
        },
        response,
      ),
    );
  } finally {
    cluster.inFlight.decrement(deployment.id);
  }
  if (result.ok) {
    if (outcome.errorCode && outcome.errorCode !== 'client_closed') metrics.recordUpstreamError(deployment.id, outcome.errorCode);
  } else if (result.error.code !== 'circuit_open') {
    metrics.recordUpstreamError(deployment.id, result.error.code);
    if (result.error.status === 429 && result.error.retryAfterSeconds) {
      cluster.breakers.openFor(deployment.id, (result.error.retryAfterMs ?? result.error.retryAfterSeconds * 1000), 'rate limited by the backend');
    }
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
