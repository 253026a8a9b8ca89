import { randomUUID } from 'node:crypto';
import type { NextFunction, Request, Response } from 'express';
import { flattened } from '@dosrouter/shared';
import { RequestContext, type RequestSinks } from '../request/request-context.js';
import { traceOf } from '../telemetry/tracing/request-trace.js';
import { applySecurityHeaders, type CorsPolicy } from './security-headers.js';

/** A client's request id is kept when it is a sane token; anything else is replaced, so logs stay parseable. */
const ACCEPTABLE_REQUEST_ID = /^[A-Za-z0-9._:@/+=-]{1,128}$/;

/** Routes get their own metric label; anything else is "other", so unknown paths cannot explode cardinality. */
const KNOWN_ROUTES = new Set(['/v1/chat/completions', '/v1/completions', '/v1/embeddings', '/v1/responses', '/v1/messages', '/v1/messages/count_tokens', '/v1/models']);
/** `GET`/`DELETE /v1/responses/{id}`: one label for every id. */
const STORED_RESPONSE_PATH = /^\/v1\/responses\/[^/]+$/;

function routeLabel(path: string): string {
  if (KNOWN_ROUTES.has(path)) return path;
  return STORED_RESPONSE_PATH.test(path) ? '/v1/responses/{id}' : 'other';
}

export interface RequestContextOptions {
  /** Where every request's outcome goes when it is over (metrics, access line, usage record). */
  readonly sinks: RequestSinks;
  /** Browser access (`server.cors`); absent: no CORS headers. */
  readonly cors?: CorsPolicy;
}

/**
 * Gives every request an id (`x-request-id`, the client's kept), its trace and its RequestContext, counts it in flight, and
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
    const route = routeLabel(request.path);
    const trace = traceOf(sinks.tracer, request.headers, { method: request.method, route, path: request.path, requestId });
    const context = new RequestContext(sinks, requestId, route, request.method, trace);
    response.locals.context = context;
    metrics.inFlight.inc();
    response.once('close', () => {
      metrics.inFlight.dec();
      context.responseClosed(response.writableFinished, response.statusCode);
      sinks.config.release(context.config);
    });
    next();
  };
}
