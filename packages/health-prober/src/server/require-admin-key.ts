import type { NextFunction, Request, Response } from 'express';
import { GatewayError, type Logger } from '@dosrouter/shared';
import { ADMIN_CHALLENGE, createAdminKeyCheck, presentedCredential } from './admin-auth.js';

export interface RequireAdminKeyOptions {
  /** Non-empty; see createAdminKeyCheck. */
  readonly adminKey: string;
  readonly logger: Logger;
}

/**
 * Lets a request through only with the admin key (see admin-auth.ts); otherwise a 401 with a Basic challenge, so that
 * a browser shows its login prompt. A wrong key is logged (path and peer, never the header); a missing one is not:
 * every browser visit starts without credentials.
 */
export function requireAdminKey({ adminKey, logger }: RequireAdminKeyOptions) {
  const matches = createAdminKeyCheck(adminKey);
  return function requireAdminKeyMiddleware(request: Request, _response: Response, next: NextFunction): void {
    const credential = presentedCredential(request.headers.authorization);
    if (matches(credential)) {
      next();
      return;
    }
    if (credential.kind !== 'missing') {
      logger.warn('admin authentication failed', { route: request.originalUrl.split('?')[0], remoteAddress: request.socket.remoteAddress });
    }
    next(
      new GatewayError(
        credential.kind === 'missing'
          ? 'This page needs the admin key: send `Authorization: Bearer <DOSROUTER_ADMIN_KEY>`, or log in with any user name and the key as password.'
          : 'Invalid admin key.',
        { status: 401, code: 'invalid_admin_key', type: 'authentication_error', headers: { 'www-authenticate': ADMIN_CHALLENGE } },
      ),
    );
  };
}
