import type { Request, Response } from 'express';
import { SESSION_HEADER, toNanoUsd, usageDay, type ApiKeyRecord, type GatewayError, type RandomSource, type RoutePlan, type RoutingSnapshot, type SpendReader } from '@dosrouter/shared';
import type { ClusterState } from '../cluster/cluster-state.js';
import type { ConfigSnapshot } from '../reload/config-snapshot.js';
import type { ProxiedRequest } from '../validation/request-fields.js';
import { responsesTurnOf } from './ingress/responses-state.js';

export interface PlanningDependencies {
  readonly cluster: ClusterState;
  readonly random: RandomSource;
  /** What keys have spent as this replica knows it without a round trip: for soft budgets. */
  readonly spend?: SpendReader;
}

export interface PlannedRequest {
  readonly plan: RoutePlan;
  /** The snapshot the plan was made on. */
  readonly snapshot: RoutingSnapshot;
  /** Why nothing can take the request, when the plan has no attempts (retry-after from the open circuits). */
  unavailable(): GatewayError;
}

/**
 * The routing decision for one request, the same for the proxy and for `POST /v1/router/explain`: the request's
 * headers, the caller's key (its allowed models) and this replica's snapshot, on the config the request runs on
 * (`config`: its router and what keys' allowedModels grant). `path` is the API path the rules see: the pattern of the
 * route the request was dispatched to, never the client's spelling of it.
 */
export function planRequest(
  dependencies: PlanningDependencies,
  config: ConfigSnapshot,
  operation: string,
  path: string,
  proxied: ProxiedRequest,
  request: Request,
  response: Response,
): PlannedRequest {
  const { cluster } = dependencies;
  const { router } = config;
  const apiKey = response.locals.apiKey as ApiKeyRecord | undefined;
  const snapshot = cluster.snapshot();
  // A Responses request continuing a stored response stays on the deployment that served it while it can.
  const pinnedDeployment = responsesTurnOf(response)?.pinnedDeployment;
  const plan = router.plan(
    {
      operation,
      path,
      model: proxied.model,
      body: proxied.body,
      stream: proxied.stream,
      headers: proxied.sessionId !== undefined && request.headers[SESSION_HEADER] === undefined ? { ...request.headers, [SESSION_HEADER]: proxied.sessionId } : request.headers,
      ...(apiKey?.allowedModels ? { allowedModel: config.keyModels.allows(apiKey.allowedModels) } : {}),
      ...(apiKey && pastSoftBudget(apiKey, dependencies.spend) ? { economize: true } : {}),
      ...(pinnedDeployment !== undefined ? { pinnedDeployment } : {}),
    },
    { snapshot, random: dependencies.random },
  );
  return { plan, snapshot, unavailable: () => router.unavailableError(plan, (id) => cluster.breakers.remainingMs(id)) };
}

/** True when the key has a soft daily budget and, as far as this replica knows, today's spend reached it. */
function pastSoftBudget(apiKey: ApiKeyRecord, spend: SpendReader | undefined): boolean {
  const soft = apiKey.budget.softDailyUsd;
  if (soft === undefined || !spend) return false;
  return spend.spentNanoUsd(apiKey.id, usageDay(Date.now())) >= toNanoUsd(soft);
}
