import { randomUUID } from 'node:crypto';
import type { NextFunction, Request, Response } from 'express';
import { flattened } from '../http/flat-string.js';
import { RequestContext, type RequestSinks } from '../request/request-context.js';
import { applySecurityHeaders, type CorsPolicy } from './security-headers.js';

/** A client's request id is kept when it is a sane token; anything else is replaced, so logs stay parseable. */
const ACCEPTABLE_REQUEST_ID = /^[A-Za-z0-9._:@/+=-]{1,128}$/;

/** Routes get their own metric label; anything else is "other", so unknown paths cannot explode cardinality. */
const KNOWN_ROUTES = new Set(['/v1/chat/completions', '/v1/completions', '/v1/embeddings', '/v1/models']);

export interface RequestContextOptions {
  /** Where every request's outcome goes when it is over (metrics, access line, usage record). */
  readonly sinks: RequestSinks;
  /** Browser access (`server.cors`); absent: no CORS headers. */
  readonly cors?: CorsPolicy;
}

/**
 * Gives every request an id (`x-request-id`, the client's kept) and its RequestContext, counts it in flight, and
 * tells the context when the response is over (a response that closed before it finished was abandoned by the
 * client: 499). The context writes the access line, the metrics and the usage record.
 */
export function requestContext({ sinks, cors }: RequestContextOptions) {
  const { metrics } = sinks;
  return function requestContextMiddleware(request: Request, response: Response, next: NextFunction): void {
    const offered = request.headers['x-request-id'];
    const requestId = typeof offered === 'string' && ACCEPTABLE_REQUEST_ID.test(offered) ? offered : flattened(randomUUID());
    response.setHeader('x-request-id', requestId);
    applySecurityHeaders(request, response, cors);
    const route = KNOWN_ROUTES.has(request.path) ? request.path : 'other';
    const context = new RequestContext(sinks, requestId, route, request.method);
    response.locals.context = context;
    metrics.inFlight.inc();
    response.once('close', () => {
      metrics.inFlight.dec();
      context.responseClosed(response.writableFinished, response.statusCode);
    });
    next();
  };
}
