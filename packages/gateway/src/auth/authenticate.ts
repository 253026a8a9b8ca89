import type { NextFunction, Request, RequestHandler, Response } from 'express';
import type { KeyAuthenticator } from './key-authenticator.js';

/** Requires a valid client key; the key's record is left in `response.locals.apiKey` for routing and limits. */
export function authenticateRequests(authenticator: KeyAuthenticator): RequestHandler {
  return async function authenticate(request: Request, response: Response, next: NextFunction): Promise<void> {
    response.locals.apiKey = await authenticator.authenticate(request.headers.authorization);
    next();
  };
}
