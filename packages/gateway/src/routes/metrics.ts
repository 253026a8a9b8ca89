import { Router, type Request, type Response } from 'express';
import type { GatewayMetrics } from '../telemetry/metrics.js';

export function metricsRoutes(metrics: GatewayMetrics): Router {
  const router = Router();
  router.get('/metrics', async function metricsEndpoint(_request: Request, response: Response) {
    const body = await metrics.registry.metrics();
    response.setHeader('content-type', metrics.registry.contentType);
    response.end(body);
  });
  return router;
}
