import express, { type Express, type Request, type Response } from 'express';
import { requireAdminKey } from '@dosrouter/health-prober';
import type { Logger } from '@dosrouter/shared';
import { refuseCrossSite } from '../auth/key-routes.js';
import type { ResponseCache } from './response-cache.js';

/**
 * `DELETE /admin/cache/models/{model}`, behind DOSROUTER_ADMIN_KEY: deletes every stored answer of one model (its
 * routed name: an alias resolved, a group or virtual model by its own). In cluster mode one call flushes the answers
 * every replica shares; answers being stored while it runs may survive it.
 */
export function registerCacheRoutes(app: Express, cache: ResponseCache, adminKey: string, logger: Logger): void {
  const router = express.Router();
  router.use(requireAdminKey({ adminKey, logger }), refuseCrossSite);
  router.delete('/models/:model', async (request: Request<{ model: string }>, response: Response) => {
    const model = request.params.model;
    const flushed = await cache.store.flushModel(model);
    logger.info('response cache flushed', { model, flushed });
    response.json({ object: 'cache.flush', model, flushed });
  });
  app.use('/admin/cache', router);
}
