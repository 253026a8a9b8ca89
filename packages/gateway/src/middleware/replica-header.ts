import type { NextFunction, Request, Response } from 'express';

/**
 * Sends `x-dosrouter-replica` (`<hostname>-<pid>` unless DOSROUTER_REPLICA_ID says otherwise), so that a response can
 * be traced to its process. It names a host: it goes only to clients that authenticated, or to everyone on a
 * gateway that runs open. An answer given before authentication (a 401, an unknown URL) does not carry it.
 */
export function replicaHeader(replica: string) {
  return function replicaHeaderMiddleware(_request: Request, response: Response, next: NextFunction): void {
    response.setHeader('x-dosrouter-replica', replica);
    next();
  };
}
