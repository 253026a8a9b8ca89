import type { Express, Request, Response } from 'express';
import type { Readiness } from '../lifecycle/readiness.js';

/** `/healthz`: the process is alive. `/readyz`: it should get traffic (503 while starting or draining). */
export function registerHealthRoutes(app: Express, readiness: Readiness): void {
  app.get('/healthz', function healthz(_request: Request, response: Response) {
    response.json({ status: 'ok' });
  });
  app.get('/readyz', function readyz(_request: Request, response: Response) {
    response.status(readiness.ready ? 200 : 503).json({ status: readiness.state });
  });
}
