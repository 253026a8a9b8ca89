import type { NextFunction, Request, RequestHandler, Response } from 'express';
import { GatewayError, type Logger } from '@dosrouter/shared';
import { requireAdminKey } from './require-admin-key.js';

export interface MetricsGuardOptions {
  /** DOSROUTER_ADMIN_KEY; unset or empty when the process has none. */
  readonly adminKey: string | undefined;
  /** Whether this cluster requires client keys (clientKeysRequired). */
  readonly clientKeysRequired: boolean;
  readonly logger: Logger;
}

/**
 * The one rule for `/metrics`, on gateways and probers alike: with an admin key, only a request that carries it
 * (Prometheus: `authorization` in the scrape config); without one, closed (401 admin_key_not_configured) where the
 * cluster requires client keys, so that metrics are protected rather than open by omission, and open only where the
 * API itself is (open mode). Undefined means no guard.
 */
export function metricsGuard({ adminKey, clientKeysRequired, logger }: MetricsGuardOptions): RequestHandler | undefined {
  if (adminKey !== undefined && adminKey !== '') return requireAdminKey({ adminKey, logger });
  return clientKeysRequired ? metricsNeedAdminKey : undefined;
}

function metricsNeedAdminKey(request: Request, _response: Response, next: NextFunction): void {
  // The path guarded (/metrics, or /readyz/detail on a gateway), named as the client asked for it.
  const path = request.originalUrl.split('?')[0];
  next(
    new GatewayError(`Client keys are required in this cluster, so ${path} needs the admin key: set DOSROUTER_ADMIN_KEY to read it.`, {
      status: 401,
      code: 'admin_key_not_configured',
      type: 'authentication_error',
      // As every admin answer (requireAdminKey sets the same).
      headers: { 'cache-control': 'no-store', 'x-content-type-options': 'nosniff' },
    }),
  );
}
