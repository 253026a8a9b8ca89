import type { NextFunction, Request, Response } from 'express';
import { GatewayError, type Logger } from '@dosrouter/shared';
import { ADMIN_CHALLENGE, createAdminKeyCheck, presentedCredential } from './admin-auth.js';
import { failedAdminLoginsOf } from './failed-admin-logins.js';

export interface RequireAdminKeyOptions {
  /** Non-empty; see createAdminKeyCheck. */
  readonly adminKey: string;
  readonly logger: Logger;
}

/**
 * Lets a request through only with the admin key (see admin-auth.ts); otherwise a 401 with a Basic challenge, so that
 * a browser shows its login prompt. A wrong key is logged (path and peer, never the header; repeated failures summed
 * up, see FailedAdminLogins); a missing one is not: every browser visit starts without credentials. Every answer
 * behind it, the 401 included, is neither cached nor sniffed: admin answers carry secrets (keys, usage).
 */
export function requireAdminKey({ adminKey, logger }: RequireAdminKeyOptions) {
  const matches = createAdminKeyCheck(adminKey);
  const failedLogins = failedAdminLoginsOf(logger);
  return function requireAdminKeyMiddleware(request: Request, response: Response, next: NextFunction): void {
    response.setHeader('cache-control', 'no-store');
    response.setHeader('x-content-type-options', 'nosniff');
    const credential = presentedCredential(request.headers.authorization);
    if (matches(credential)) {
      next();
      return;
    }
    if (credential.kind !== 'missing') failedLogins.record(request.originalUrl.split('?')[0]!, request.socket.remoteAddress);
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
