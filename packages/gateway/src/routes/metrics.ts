import type { Express, Request, Response } from 'express';
import type { GatewayMetrics } from '../telemetry/metrics.js';

export function registerMetricsRoute(app: Express, metrics: GatewayMetrics): void {
  app.get('/metrics', async function metricsEndpoint(_request: Request, response: Response) {
    const body = await metrics.registry.metrics();
    response.setHeader('content-type', metrics.registry.contentType);
    response.end(body);
  });
}
