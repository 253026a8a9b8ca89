import express, { type Express, type NextFunction, type Request, type Response } from 'express';
import { GatewayError, routeNotFound, type GatewayConfig, type KeyStore, type Logger, type ModelCatalog, type UsageLedger } from '@dosrouter/shared';
import { requireAdminKey } from '@dosrouter/health-prober';
import { authenticateRequests } from './auth/authenticate.js';
import type { KeyAuthenticator } from './auth/key-authenticator.js';
import { registerKeyRoutes } from './auth/key-routes.js';
import type { Readiness } from './lifecycle/readiness.js';
import type { AccessLog } from './telemetry/access-log.js';
import { errorHandler } from './middleware/error-handler.js';
import { jsonBody } from './middleware/json-body.js';
import { requestContext } from './middleware/request-context.js';
import { registerCorsPreflight } from './middleware/security-headers.js';
import { createProxyHandler, type ProxyDependencies } from './proxy/proxy-handler.js';
import { registerExplainRoute } from './routes/explain.js';
import { registerHealthRoutes } from './routes/health.js';
import { registerMetricsRoute } from './routes/metrics.js';
import { registerModelRoutes } from './routes/models.js';
import { registerUsageRoutes } from './usage/usage-routes.js';
import { validateChatRequest } from './validation/chat-request.js';
import { validateCompletionRequest } from './validation/completion-request.js';
import { validateEmbeddingRequest } from './validation/embedding-request.js';

export interface AppDependencies extends ProxyDependencies {
  readonly config: GatewayConfig;
  /** Client keys: absent when the gateway runs open (auth.mode). */
  readonly keys?: { readonly store: KeyStore; readonly authenticator: KeyAuthenticator };
  /** DOSROUTER_ADMIN_KEY: enables /admin. */
  readonly adminKey?: string;
  readonly catalog: ModelCatalog;
  readonly logger: Logger;
  readonly readiness: Readiness;
  readonly startedAtSeconds: number;
  readonly accessLog: AccessLog | undefined;
  /** Usage totals for /admin/usage and /v1/usage; absent when usage recording is off. */
  readonly usageLedger?: UsageLedger;
}

function metricsNeedAdminKey(_request: Request, _response: Response, next: NextFunction): void {
  next(
    new GatewayError('Client keys are required on this gateway, so /metrics needs the admin key: set DOSROUTER_ADMIN_KEY to scrape it.', {
      status: 401,
      code: 'admin_key_not_configured',
      type: 'authentication_error',
    }),
  );
}

/** The Express application: health and metrics first (no access log), then the OpenAI API, then errors. */
export function createApp(dependencies: AppDependencies): Express {
  const { config, logger, metrics, readiness, catalog, clock } = dependencies;
  const app = express();
  app.disable('x-powered-by');
  app.set('etag', false);

  // Express walks every layer before the matching one on every request: the API routes come first, each with
  // the request context as its own first handler, instead of one app-wide middleware ahead of everything.
  const { cors } = config.server;
  const requestContextHandler = requestContext({
    metrics,
    accessLog: dependencies.accessLog,
    clock,
    replica: dependencies.cluster.replica,
    cors,
    ...(dependencies.usage ? { usage: dependencies.usage } : {}),
  });
  registerCorsPreflight(app, cors);
  // Every /v1 route authenticates right after the request context (so a 401 is logged and counted like any error).
  const context = dependencies.keys ? [requestContextHandler, authenticateRequests(dependencies.keys.authenticator)] : [requestContextHandler];
  const body = jsonBody({ limitBytes: config.server.bodyLimit, shapeLimits: config.server.bodyLimits });
  app.post('/v1/chat/completions', context, body, createProxyHandler(dependencies, 'chat/completions', validateChatRequest));
  app.post('/v1/completions', context, body, createProxyHandler(dependencies, 'completions', validateCompletionRequest));
  app.post('/v1/embeddings', context, body, createProxyHandler(dependencies, 'embeddings', validateEmbeddingRequest));
  registerExplainRoute(app, context, body, dependencies);
  registerModelRoutes(app, context, catalog, Object.keys(config.routing.groups), dependencies.startedAtSeconds);
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
  registerHealthRoutes(app, readiness);
  // With an admin key, Prometheus scrapes with it (bearer_token / authorization in the scrape config). A replica
  // that requires client keys but has no admin key keeps its metrics closed too: protected, not open by omission.
  const metricsGuard = dependencies.adminKey ? requireAdminKey({ adminKey: dependencies.adminKey, logger }) : dependencies.keys ? metricsNeedAdminKey : undefined;
  registerMetricsRoute(app, metrics, metricsGuard);

  app.use(requestContextHandler, function unknownRoute(request: Request, _response: Response, next: NextFunction) {
    next(routeNotFound(request.method, request.path));
  });
  app.use(errorHandler({ logger }));
  return app;
}
