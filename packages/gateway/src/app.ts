import type { RequestListener } from 'node:http';
import express, { type Express, type NextFunction, type Request, type RequestHandler, type Response } from 'express';
import { routeNotFound, type GatewayConfig, type KeyStore, type Logger, type UsageLedger } from '@dosrouter/shared';
import { metricsGuard } from '@dosrouter/health-prober';
import { authenticateRequests } from './auth/authenticate.js';
import type { KeyAuthenticator } from './auth/key-authenticator.js';
import { registerKeyRoutes } from './auth/key-routes.js';
import { registerCacheRoutes } from './cache/cache-routes.js';
import { directRoutes } from './http/direct-routes.js';
import type { InFlightTracker } from './lifecycle/in-flight.js';
import type { Readiness } from './lifecycle/readiness.js';
import type { LiveConfig } from './reload/live-config.js';
import type { AccessLog } from './telemetry/access-log.js';
import type { RequestTracer } from './telemetry/tracing/request-trace.js';
import { errorHandler } from './middleware/error-handler.js';
import { anthropicRequestId } from './middleware/anthropic-request-id.js';
import { jsonBody } from './middleware/json-body.js';
import { requestContext } from './middleware/request-context.js';
import { replicaHeader } from './middleware/replica-header.js';
import { registerCorsPreflight } from './middleware/security-headers.js';
import { createProxyHandler, type ProxyDependencies } from './proxy/proxy-handler.js';
import { messagesIngress } from './proxy/ingress/messages-ingress.js';
import { responsesIngress } from './proxy/ingress/responses-ingress.js';
import { responsesTurns } from './proxy/ingress/responses-state.js';
import { registerCountTokensRoute } from './routes/count-tokens.js';
import { registerExplainRoute } from './routes/explain.js';
import { registerHealthRoutes } from './routes/health.js';
import { registerMetricsRoute } from './routes/metrics.js';
import { registerModelRoutes } from './routes/models.js';
import { registerUsageRoutes } from './usage/usage-routes.js';
import type { DashboardData } from './dashboard/dashboard-data.js';
import { registerDashboardRoutes } from './dashboard/dashboard-routes.js';
import type { RecentRequests } from './dashboard/recent-requests.js';
import { registerStoredResponseRoutes } from './responses/stored-response-routes.js';
import type { StoredResponses } from './responses/stored-responses.js';
import { validateChatRequest } from './validation/chat-request.js';
import { validateCompletionRequest } from './validation/completion-request.js';
import { validateEmbeddingRequest } from './validation/embedding-request.js';
import { validateMessagesRequest } from './validation/messages-request.js';
import { validateResponsesRequest } from './validation/responses-request.js';

export interface AppDependencies extends ProxyDependencies {
  /** The config the process started with: what only a restart changes (the server's settings). */
  readonly config: GatewayConfig;
  /** The config snapshot each request takes when it is accepted; a reload swaps it. */
  readonly live: LiveConfig;
  /** Client keys: absent when the gateway runs open (auth.mode). */
  readonly keys?: { readonly store: KeyStore; readonly authenticator: KeyAuthenticator };
  /** DOSROUTER_ADMIN_KEY: enables /admin. */
  readonly adminKey?: string;
  readonly logger: Logger;
  readonly readiness: Readiness;
  readonly startedAtSeconds: number;
  readonly accessLog: AccessLog | undefined;
  /** Counts proxy handlers at work: a shutdown waits for them before it closes the usage recorder. */
  readonly handlers?: InFlightTracker;
  /** Usage totals for /admin/usage and /v1/usage; absent when usage recording is off. */
  readonly usageLedger?: UsageLedger;
  /**
   * The Responses API's stored responses: `store`, `previous_response_id`, `GET`/`DELETE /v1/responses/{id}`. Absent,
   * or with `responses.store.enabled: false`, nothing is kept and `previous_response_id` is refused.
   */
  readonly responses?: StoredResponses;
  /** Present when tracing is on (`telemetry.tracing`). */
  readonly tracer?: RequestTracer;
  /** The dashboard's ring of recent requests and its data; absent when it is off or there is no admin key. */
  readonly dashboard?: { readonly recent: RecentRequests; readonly data: DashboardData };
}

/** What the servers run: the Express app, and the listener that serves the proxy routes beside it. */
export interface GatewayApp {
  readonly app: Express;
  /** The servers' request listener: the proxy routes directly, everything else through `app`. */
  readonly listener: RequestListener;
}

/**
 * The Express application: the OpenAI and Anthropic APIs first, then health and metrics (no access log), then
 * errors. The OpenAI proxy routes are also served by `listener` without Express's router (http/direct-routes.ts),
 * with the same handlers.
 */
export function createApp(dependencies: AppDependencies): GatewayApp {
  const { config, logger, metrics, readiness, clock } = dependencies;
  const app = express();
  app.disable('x-powered-by');
  app.set('etag', false);
  // One spelling per route: `/V1/chat/completions` and `/v1/chat/completions/` are 404s, not the same route under
  // another name, so rules, metrics labels and the access log all see the path the client was served on.
  // Set before the first route: Express reads both when it creates its router. (Express defaults: both off.)
  app.set('case sensitive routing', true);
  app.set('strict routing', true);

  // Express walks every layer before the matching one on every request: the API routes come first, each with
  // the request context as its own first handler, instead of one app-wide middleware ahead of everything.
  const { cors } = config.server;
  const requestContextHandler = requestContext({
    sinks: {
      metrics,
      accessLog: dependencies.accessLog,
      usage: dependencies.usage,
      config: dependencies.live,
      replica: dependencies.cluster.replica,
      clock,
      ...(dependencies.handlers ? { handlers: dependencies.handlers } : {}),
      ...(dependencies.tracer ? { tracer: dependencies.tracer } : {}),
      ...(dependencies.dashboard ? { recent: dependencies.dashboard.recent } : {}),
    },
    cors,
  });
  registerCorsPreflight(app, cors);
  // Every /v1 route authenticates right after the request context (so a 401 is logged and counted like any error);
  // the replica is named only to a client past authentication.
  const replica = replicaHeader(dependencies.cluster.replica);
  const context = dependencies.keys ? [requestContextHandler, authenticateRequests(dependencies.keys.authenticator), replica] : [requestContextHandler, replica];
  const body = jsonBody({ limitBytes: config.server.bodyLimit, shapeLimits: config.server.bodyLimits });
  const proxyRoutes = new Map<string, RequestHandler[]>([
    ['/v1/chat/completions', [...context, body, createProxyHandler(dependencies, 'chat/completions', validateChatRequest)]],
    ['/v1/completions', [...context, body, createProxyHandler(dependencies, 'completions', validateCompletionRequest)]],
    ['/v1/embeddings', [...context, body, createProxyHandler(dependencies, 'embeddings', validateEmbeddingRequest)]],
    // OpenAI's Responses API: routed, limited and recorded as its Chat translation is (docs/protocols.md).
    [
      '/v1/responses',
      [...context, body, responsesTurns(dependencies.responses), createProxyHandler(dependencies, 'chat/completions', validateResponsesRequest, responsesIngress, '/v1/responses')],
    ],
  ]);
  for (const [path, handlers] of proxyRoutes) app.post(path, handlers);
  // Anthropic's Messages API: routed, limited and recorded as its Chat translation is (docs/protocols.md). It stays
  // on Express's router, whose error handler answers in Anthropic's shape on these paths.
  const anthropic = [...context, anthropicRequestId()];
  app.post('/v1/messages', anthropic, body, createProxyHandler(dependencies, 'chat/completions', validateMessagesRequest, messagesIngress, '/v1/messages'));
  registerCountTokensRoute(app, anthropic, body, dependencies);
  registerExplainRoute(app, context, body, dependencies);
  if (dependencies.responses) registerStoredResponseRoutes(app, context, dependencies.responses);
  registerModelRoutes(app, context, { createdAtSeconds: dependencies.startedAtSeconds });
  if (dependencies.usageLedger) {
    registerUsageRoutes(app, {
      ledger: dependencies.usageLedger,
      ...(dependencies.keys ? { keys: dependencies.keys.store } : {}),
      ...(dependencies.adminKey ? { adminKey: dependencies.adminKey } : {}),
      logger,
      clientContext: context,
    });
  }
  // Health checks and scrapes are neither access-logged nor counted as requests.
  if (dependencies.keys && dependencies.adminKey) {
    registerKeyRoutes(app, dependencies.keys.store, dependencies.keys.authenticator, dependencies.adminKey, logger);
  }
  if (dependencies.responseCache && dependencies.adminKey) registerCacheRoutes(app, dependencies.responseCache, dependencies.adminKey, logger);
  // With an admin key, Prometheus scrapes with it (bearer_token / authorization in the scrape config). A replica
  // that requires client keys but has no admin key keeps its metrics closed too: protected, not open by omission.
  // /readyz/detail names the replicas, so it follows the same rule.
  const adminGuard = metricsGuard({ adminKey: dependencies.adminKey, clientKeysRequired: dependencies.keys !== undefined, logger });
  if (dependencies.dashboard && dependencies.adminKey) {
    registerDashboardRoutes(app, {
      adminKey: dependencies.adminKey,
      sessionHours: config.dashboard.sessionHours,
      data: dependencies.dashboard.data,
      planning: dependencies,
      currentConfig: () => dependencies.live.current,
      jsonBody: body,
      logger,
    });
  }
  registerHealthRoutes(app, { readiness, replicas: dependencies.cluster.replicas, ...(adminGuard ? { detailGuard: adminGuard } : {}) });
  registerMetricsRoute(app, metrics, adminGuard);

  app.use(requestContextHandler, dependencies.keys ? [] : [replica], function unknownRoute(request: Request, _response: Response, next: NextFunction) {
    next(routeNotFound(request.method, request.path));
  });
  const onError = errorHandler({ logger });
  app.use(onError);
  return { app, listener: directRoutes(app, proxyRoutes, onError) };
}
