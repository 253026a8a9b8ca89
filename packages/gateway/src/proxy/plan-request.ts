import type { Request, Response } from 'express';
import type { ApiKeyRecord, GatewayError, RandomSource, RoutePlan, Router, RoutingSnapshot } from '@dosrouter/shared';
import type { KeyModelPermissions } from '../auth/key-models.js';
import type { ClusterState } from '../cluster/cluster-state.js';
import type { ProxiedRequest } from '../validation/request-fields.js';

export interface PlanningDependencies {
  readonly router: Router;
  readonly keyModels: KeyModelPermissions;
  readonly cluster: ClusterState;
  readonly random: RandomSource;
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
 * headers, the caller's key (its allowed models) and this replica's snapshot. `path` is the API path the rules see.
 */
export function planRequest(
  dependencies: PlanningDependencies,
  operation: string,
  path: string,
  proxied: ProxiedRequest,
  request: Request,
  response: Response,
): PlannedRequest {
  const { router, cluster } = dependencies;
  const apiKey = response.locals.apiKey as ApiKeyRecord | undefined;
  const snapshot = cluster.snapshot();
  const plan = router.plan(
    {
      operation,
      path,
      model: proxied.model,
      body: proxied.body,
      stream: proxied.stream,
      headers: request.headers,
      ...(apiKey?.allowedModels ? { allowedModel: dependencies.keyModels.allows(apiKey.allowedModels) } : {}),
    },
    { snapshot, random: dependencies.random },
  );
  return { plan, snapshot, unavailable: () => router.unavailableError(plan, (id) => cluster.breakers.remainingMs(id)) };
}
