import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createBullBoard } from '@bull-board/api';
import { BullMQAdapter } from '@bull-board/api/bullMQAdapter';
import { ExpressAdapter } from '@bull-board/express';
import type { Queue } from 'bullmq';
import express, { type Express, type NextFunction, type Request, type Response } from 'express';
import type { Registry } from 'prom-client';
import { GatewayError, routeNotFound, type Logger } from '@dosrouter/shared';
import { errorHandler } from './error-handler.js';
import { metricsGuard } from './metrics-guard.js';
import { requireAdminKey } from './require-admin-key.js';

export interface ProberServerOptions {
  /** e.g. '127.0.0.1' or '0.0.0.0'. */
  readonly host: string;
  /** 0 picks a free port. */
  readonly port: number;
  /** The prober's metrics, served at /metrics. */
  readonly registry: Registry;
  /** The queues bull-board shows at /admin/queues, read-only: the prober owns the schedules. */
  readonly queues: readonly Queue[];
  /** DOSROUTER_ADMIN_KEY. Unset or empty disables everything under /admin; when set, /metrics needs it too. */
  readonly adminKey: string | undefined;
  /** Whether the cluster requires client keys (clientKeysRequired): then /metrics stays closed without an admin key. */
  readonly clientKeysRequired: boolean;
  readonly logger: Logger;
  /** Readiness for /readyz: connected to Redis, schedules reconciled. */
  readonly isReady: () => boolean;
}

export interface ProberServer {
  /** e.g. http://127.0.0.1:9090 */
  readonly url: string;
  readonly port: number;
  /** Stops listening and cuts every connection, keep-alive ones included. */
  close(): Promise<void>;
}

/** Where bull-board is served. */
export const BULL_BOARD_PATH = '/admin/queues';

/** The prober's own HTTP server: health, readiness, metrics and bull-board, both behind the admin key. */
export async function startProberServer(options: ProberServerOptions): Promise<ProberServer> {
  const { logger } = options;
  const server = createServer(createProberApp(options));
  // After listen, an 'error' (e.g. EMFILE on accept) must not become an uncaught exception.
  const onServerError = (error: Error): void => {
    logger.error('prober server error', { error: error.message });
  };

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, options.host, () => {
      server.off('error', reject);
      server.on('error', onServerError);
      resolve();
    });
  });
  const port = (server.address() as AddressInfo).port;
  const displayHost = options.host === '0.0.0.0' || options.host === '::' ? '127.0.0.1' : options.host;
  const url = `http://${displayHost.includes(':') ? `[${displayHost}]` : displayHost}:${port}`;
  logger.info('prober server listening', { url, adminUi: adminEnabled(options.adminKey) ? `${url}${BULL_BOARD_PATH}` : 'disabled' });

  let closing: Promise<void> | undefined;
  const close = (): Promise<void> => {
    closing ??= new Promise<void>((resolve, reject) => {
      server.close((error) => (error ? reject(error) : resolve()));
      // close() only stops accepting; idle keep-alive sockets (a browser's, bull-board's polling) would hold it open.
      server.closeAllConnections();
    });
    return closing;
  };
  return { url, port, close };
}

function createProberApp(options: ProberServerOptions): Express {
  const { logger, registry } = options;
  const app = express();
  app.disable('x-powered-by');
  app.set('etag', false);

  app.get('/healthz', function healthz(_request: Request, response: Response) {
    response.json({ status: 'ok' });
  });
  app.get('/readyz', function readyz(_request: Request, response: Response) {
    const ready = options.isReady();
    response.status(ready ? 200 : 503).json({ status: ready ? 'ready' : 'not_ready' });
  });
  // The same rule as the gateway's /metrics (metricsGuard).
  const guard = metricsGuard({ adminKey: options.adminKey, clientKeysRequired: options.clientKeysRequired, logger });
  app.get('/metrics', guard ? [guard] : [], async function metrics(_request: Request, response: Response) {
    const body = await registry.metrics();
    response.setHeader('content-type', registry.contentType);
    response.end(body);
  });

  if (adminEnabled(options.adminKey)) {
    app.use('/admin', requireAdminKey({ adminKey: options.adminKey, logger }));
    app.use(BULL_BOARD_PATH, bullBoardRouter(options.queues));
  } else {
    logger.warn('admin pages disabled: set DOSROUTER_ADMIN_KEY to serve bull-board at /admin/queues');
    app.use('/admin', function adminDisabled(_request: Request, _response: Response, next: NextFunction) {
      next(
        new GatewayError('The admin pages are disabled on this health prober: set DOSROUTER_ADMIN_KEY to enable them.', {
          status: 404,
          code: 'admin_disabled',
          type: 'invalid_request_error',
        }),
      );
    });
  }

  app.use(function unknownRoute(request: Request, _response: Response, next: NextFunction) {
    next(routeNotFound(request.method, request.path));
  });
  app.use(errorHandler({ logger }));
  return app;
}

function adminEnabled(adminKey: string | undefined): adminKey is string {
  return adminKey !== undefined && adminKey !== '';
}

/** bull-board's own Express app, every queue read-only: schedules are reconciled by the prober, not edited by hand. */
function bullBoardRouter(queues: readonly Queue[]): Express {
  const serverAdapter = new ExpressAdapter();
  serverAdapter.setBasePath(BULL_BOARD_PATH);
  createBullBoard({
    queues: queues.map((queue) => new BullMQAdapter(queue, { readOnlyMode: true, allowRetries: false })),
    serverAdapter,
    options: { uiConfig: { boardTitle: 'DOSRouter probes' } },
  });
  const router = serverAdapter.getRouter() as Express;
  // A mounted Express app keeps its own defaults rather than inheriting ours.
  router.disable('x-powered-by');
  return router;
}
