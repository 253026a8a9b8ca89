import { randomUUID } from 'node:crypto';
import type { NextFunction, Request, Response } from 'express';
import { createOutcome } from '../proxy/request-outcome.js';
import { applySecurityHeaders, type CorsPolicy } from './security-headers.js';
import type { AccessLog } from '../telemetry/access-log.js';
import type { GatewayMetrics } from '../telemetry/metrics.js';
import { usageRecordOf } from '../usage/usage-record-of.js';
import type { UsageRecorder } from '../usage/usage-recorder.js';

/** A client's request id is kept when it is a sane token; anything else is replaced, so logs stay parseable. */
const ACCEPTABLE_REQUEST_ID = /^[A-Za-z0-9._:@/+=-]{1,128}$/;

/** Routes get their own metric label; anything else is "other", so unknown paths cannot explode cardinality. */
const KNOWN_ROUTES = new Set(['/v1/chat/completions', '/v1/completions', '/v1/embeddings', '/v1/models']);

export interface RequestContextOptions {
  readonly metrics: GatewayMetrics;
  /** Undefined when access lines are off (`logging.accessLog: false`, or a level above info). */
  readonly accessLog: AccessLog | undefined;
  readonly clock: () => number;
  /** This replica's id, for usage records (`x-dosrouter-replica` is sent by replicaHeader, after authentication). */
  readonly replica: string;
  /** Browser access (`server.cors`); absent: no CORS headers. */
  readonly cors?: CorsPolicy;
  /** Usage records; absent when they are off. */
  readonly usage?: UsageRecorder;
}

/**
 * Gives every request an id (`x-request-id`, the client's kept) and an outcome record, counts it in flight,
 * and when its response is over writes the access log line, the metrics and (for forwarded requests whose answer
 * did not already commit one) the usage record. A response that closed before it
 * finished was abandoned by the client and is recorded as 499.
 */
export function requestContext({ metrics, accessLog, clock, replica, cors, usage }: RequestContextOptions) {
  return function requestContextMiddleware(request: Request, response: Response, next: NextFunction): void {
    const offered = request.headers['x-request-id'];
    const requestId = typeof offered === 'string' && ACCEPTABLE_REQUEST_ID.test(offered) ? offered : randomUUID();
    response.setHeader('x-request-id', requestId);
    applySecurityHeaders(request, response, cors);
    const route = KNOWN_ROUTES.has(request.path) ? request.path : 'other';
    const outcome = createOutcome(requestId, route, clock());
    response.locals.outcome = outcome;
    metrics.inFlight.inc();
    response.once('close', () => {
      metrics.inFlight.dec();
      const endedAt = clock();
      const status = response.writableFinished ? response.statusCode : 499;
      // The handler may learn of the disconnect only after this line is written (it was waiting to retry).
      if (status === 499) outcome.errorCode ??= 'client_closed';
      metrics.recordRequest(outcome, status, endedAt);
      accessLog?.write(outcome, request.method, status, endedAt);
      // Answers committed their record before ending; every other forwarded request (errors, clients gone, broken
      // streams) is recorded now, without waiting, or by the handler once it settled what the attempt used.
      if (usage && outcome.accounted && !outcome.usageRecorded) {
        if (outcome.handling) outcome.closed = { status, at: endedAt };
        else usage.record(usageRecordOf(outcome, status, endedAt, replica));
      }
    });
    next();
  };
}
