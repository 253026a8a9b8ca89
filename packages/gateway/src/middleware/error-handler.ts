import type { NextFunction, Request, Response } from 'express';
import { GatewayError, internalError, type Logger } from '@dosrouter/shared';
import { RequestContext } from '../request/request-context.js';
import { sentContentType } from '../http/sent-head.js';
import { hasUnreadBody } from '../lifecycle/lingering-close.js';
import { anthropicErrorOf } from '../translate/anthropic-errors.js';
import { OPENAI_DIALECT } from '../upstream/answer-dialect.js';

/**
 * The one place errors become responses: OpenAI's `{"error":{message,type,param,code}}` with its status, or on
 * Anthropic's routes (`/v1/messages…`) Anthropic's `{"type":"error","error":{type,message}}` with its status;
 * `x-should-retry` as the gateway decides it, and `retry-after` when known. Never a stack trace or HTML.
 */
export function errorHandler({ logger }: { logger: Logger }) {
  return function errorHandlerMiddleware(error: unknown, request: Request, response: Response, _next: NextFunction): void {
    const gatewayError = toGatewayError(error);
    const context = response.locals.context instanceof RequestContext ? response.locals.context : undefined;
    context?.failed(gatewayError.code);
    const outcome = context?.outcome;
    if (gatewayError.code === 'internal_error') {
      logger.error('unhandled error', { requestId: outcome?.requestId, route: request.path, error: describe(error) });
    }
    if (response.headersSent) {
      // A chat stream already under way (a follower taking over a shared stream that broke, refused at admission):
      // it ends with the error event, as a broken stream does.
      if (request.path.endsWith('/chat/completions') && !response.writableEnded && (sentContentType(response) ?? '').startsWith('text/event-stream')) {
        response.end(OPENAI_DIALECT.errorEvent(gatewayError));
        return;
      }
      response.destroy();
      return;
    }
    const headers: Record<string, string> = {
      ...gatewayError.headers,
      'content-type': 'application/json; charset=utf-8',
      'x-should-retry': String(shouldClientRetry(gatewayError)),
    };
    // Answered before its body was read to the end (401, 404, 413, 415): the connection closes after the answer,
    // lingering within `server.lingeringClose`, instead of reading a body of any declared size to reuse it.
    if (hasUnreadBody(request)) headers.connection = 'close';
    if (gatewayError.retryAfterSeconds !== undefined) headers['retry-after'] = String(gatewayError.retryAfterSeconds);
    if (gatewayError.retryAfterMs !== undefined) headers['retry-after-ms'] = String(gatewayError.retryAfterMs);
    if (outcome?.model) headers['x-dosrouter-model'] = outcome.model;
    if (outcome?.deployment) headers['x-dosrouter-deployment'] = outcome.deployment;
    if (isAnthropicRoute(request.path)) {
      const { status, body } = anthropicErrorOf(gatewayError);
      if (outcome?.requestId) body.request_id = outcome.requestId;
      response.writeHead(status, headers);
      response.end(JSON.stringify(body));
      return;
    }
    response.writeHead(gatewayError.status, headers);
    response.end(JSON.stringify(gatewayError.toBody()));
  };
}

/** Anthropic's Messages API and everything below it (count_tokens, and unknown paths an Anthropic client tries). */
function isAnthropicRoute(path: string): boolean {
  return path === '/v1/messages' || path.startsWith('/v1/messages/');
}

/** A client should retry rate limits and server-side failures, never its own bad requests. */
export function shouldClientRetry(error: GatewayError): boolean {
  return error.retryable && (error.status === 429 || error.status >= 500);
}

function toGatewayError(error: unknown): GatewayError {
  if (error instanceof GatewayError) return error;
  // Errors raised by Node's HTTP parser or Express itself carry a 4xx status: the client's fault, say so.
  const status = (error as { status?: unknown } | null)?.status;
  if (typeof status === 'number' && status >= 400 && status < 500) {
    return new GatewayError('The request could not be processed.', { status, code: 'invalid_request' });
  }
  return internalError(error);
}

function describe(error: unknown): Record<string, unknown> {
  return error instanceof Error ? { name: error.name, message: error.message, stack: error.stack } : { value: String(error) };
}
