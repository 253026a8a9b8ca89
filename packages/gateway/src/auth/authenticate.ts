import type { IncomingHttpHeaders } from 'node:http';
import type { NextFunction, Request, RequestHandler, Response } from 'express';
import type { KeyAuthenticator } from './key-authenticator.js';

/** Requires a valid client key; the key's record is left in `response.locals.apiKey` for routing and limits. */
export function authenticateRequests(authenticator: KeyAuthenticator): RequestHandler {
  return async function authenticate(request: Request, response: Response, next: NextFunction): Promise<void> {
    response.locals.apiKey = await authenticator.authenticate(clientCredential(request.headers));
    next();
  };
}

/**
 * The client's credential as an Authorization value: its `Authorization` header, else its `x-api-key` (how Anthropic's
 * SDKs and Claude Code send a key) as a bearer token. Limits are kept per credential, whichever header carried it.
 */
export function clientCredential(headers: IncomingHttpHeaders): string | undefined {
  if (headers.authorization !== undefined) return headers.authorization;
  const apiKey = headers['x-api-key'];
  const key = Array.isArray(apiKey) ? apiKey[0] : apiKey;
  return key === undefined || key.trim() === '' ? undefined : `Bearer ${key.trim()}`;
}
