import type { Request, Response } from 'express';
import {
  GatewayError,
  modelNotFound,
  type Deployment,
  type ModelCatalog,
  type RandomSource,
  type RoutingSnapshot,
  type Strategy,
} from '@dosrouter/shared';
import type { GatewayMetrics } from '../telemetry/metrics.js';
import type { Operation } from '../upstream/backend.js';
import type { BackendRegistry } from '../upstream/backend-registry.js';
import { runAttempt } from '../upstream/attempt.js';
import type { ProxiedRequest } from '../validation/request-fields.js';
import { outcomeOf } from './request-outcome.js';

export interface ProxyDependencies {
  readonly catalog: ModelCatalog;
  readonly backends: BackendRegistry;
  readonly strategy: Strategy;
  /** The local routing snapshot; reading it never waits on the network. */
  readonly snapshot: () => RoutingSnapshot;
  readonly random: RandomSource;
  readonly clock: () => number;
  readonly metrics: GatewayMetrics;
}

/**
 * The handler for one forwarded operation: validate → resolve the model → order its deployments → try them in
 * order until one answers. A retryable failure moves on to the next deployment while nothing has reached the
 * client; the last failure is what the client sees.
 */
export function createProxyHandler(
  dependencies: ProxyDependencies,
  operation: Operation,
  validate: (body: Record<string, unknown>) => ProxiedRequest,
) {
  const { catalog, backends, strategy, metrics, clock } = dependencies;
  return async function proxyHandler(request: Request, response: Response): Promise<void> {
    const outcome = outcomeOf(response);
    const proxied = validate(request.body as Record<string, unknown>);
    outcome.requestedModel = proxied.model;
    outcome.stream = proxied.stream;
    const group = catalog.resolve(proxied.model);
    if (!group) throw modelNotFound(proxied.model);
    outcome.model = group.name;
    const order = strategy.order(group.deployments, { snapshot: dependencies.snapshot(), random: dependencies.random });

    let controller: AbortController | undefined;
    let clientGone = false;
    response.once('close', () => {
      if (response.writableFinished) return;
      clientGone = true;
      controller?.abort(new Error('client closed the connection'));
    });

    let lastError: GatewayError | undefined;
    for (const deployment of order) {
      if (clientGone) break;
      const backend = backends.get(deployment.backend);
      controller = new AbortController();
      outcome.attempts += 1;
      outcome.deployment = deployment.id;
      const askForUsage = proxied.stream && !proxied.includeUsage && backend.requestStreamUsage;
      const result = await runAttempt(
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
          responseHeaders: { 'x-dosrouter-model': group.name, 'x-dosrouter-deployment': deployment.id },
        },
        response,
      );
      if (result.ok) {
        if (outcome.errorCode && outcome.errorCode !== 'client_closed') metrics.recordUpstreamError(deployment.id, outcome.errorCode);
        return;
      }
      metrics.recordUpstreamError(deployment.id, result.error.code);
      lastError = result.error;
      if (!result.error.retryable) break;
    }
    if (clientGone) {
      outcome.errorCode = 'client_closed';
      return;
    }
    throw lastError ?? new GatewayError(`No deployment of ${group.name} is available.`, { status: 503, code: 'no_deployment_available' });
  };
}

/** The body sent upstream: the client's, with the backend's model id and, if asked for, stream usage. */
function upstreamBody(proxied: ProxiedRequest, deployment: Deployment, askForUsage: boolean): string {
  const body: Record<string, unknown> = { ...proxied.body, model: deployment.upstreamModel };
  if (askForUsage) body.stream_options = { ...(proxied.body.stream_options as object | undefined), include_usage: true };
  return JSON.stringify(body);
}
