import express, { type Express, type NextFunction, type Request, type Response } from 'express';
import { routeNotFound, type GatewayConfig, type Logger } from '@dosrouter/shared';
import type { Readiness } from './lifecycle/readiness.js';
import { errorHandler } from './middleware/error-handler.js';
import { jsonBody } from './middleware/json-body.js';
import { requestContext } from './middleware/request-context.js';
import { createProxyHandler, type ProxyDependencies } from './proxy/proxy-handler.js';
import { healthRoutes } from './routes/health.js';
import { metricsRoutes } from './routes/metrics.js';
import { modelRoutes } from './routes/models.js';
import { validateChatRequest } from './validation/chat-request.js';
import { validateCompletionRequest } from './validation/completion-request.js';
import { validateEmbeddingRequest } from './validation/embedding-request.js';

export interface AppDependencies extends ProxyDependencies {
  readonly config: GatewayConfig;
  readonly logger: Logger;
  readonly readiness: Readiness;
  readonly startedAtSeconds: number;
}

/** The Express application: health and metrics first (no access log), then the OpenAI API, then errors. */
export function createApp(dependencies: AppDependencies): Express {
  const { config, logger, metrics, readiness, catalog, clock } = dependencies;
  const app = express();
  app.disable('x-powered-by');
  app.set('etag', false);

  app.use(healthRoutes(readiness));
  app.use(metricsRoutes(metrics));
  app.use(requestContext({ logger, metrics, accessLog: config.logging.accessLog, clock, replica: dependencies.cluster.replica }));
  app.use(modelRoutes(catalog, dependencies.startedAtSeconds));

  const body = jsonBody({ limitBytes: config.server.bodyLimit });
  app.post('/v1/chat/completions', body, createProxyHandler(dependencies, 'chat/completions', validateChatRequest));
  app.post('/v1/completions', body, createProxyHandler(dependencies, 'completions', validateCompletionRequest));
  app.post('/v1/embeddings', body, createProxyHandler(dependencies, 'embeddings', validateEmbeddingRequest));

  app.use(function unknownRoute(request: Request, _response: Response, next: NextFunction) {
    next(routeNotFound(request.method, request.path));
  });
  app.use(errorHandler({ logger }));
  return app;
}
