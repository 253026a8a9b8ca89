import type { Express, Request, RequestHandler, Response } from 'express';
import type { GatewayMetrics } from '../telemetry/metrics.js';

/** `GET /metrics`; behind `guard` (the admin key) when one is given. */
export function registerMetricsRoute(app: Express, metrics: GatewayMetrics, guard?: RequestHandler): void {
  const handlers: RequestHandler[] = guard ? [guard] : [];
  app.get('/metrics', ...handlers, async function metricsEndpoint(_request: Request, response: Response) {
    const body = await metrics.registry.metrics();
    response.setHeader('content-type', metrics.registry.contentType);
    response.end(body);
  });
}
