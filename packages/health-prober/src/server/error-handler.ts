import type { NextFunction, Request, Response } from 'express';
import { GatewayError, type Logger } from '@dosrouter/shared';

/**
 * The prober server's one error middleware: OpenAI's `{"error":{message,type,param,code}}` with its status and
 * headers. Anything that is not a GatewayError is logged and answered with a generic 500, never a stack trace.
 */
export function errorHandler({ logger }: { logger: Logger }) {
  return function errorHandlerMiddleware(error: unknown, request: Request, response: Response, _next: NextFunction): void {
    const proberError = toGatewayError(error);
    if (proberError.code === 'internal_error') {
      logger.error('unhandled error', { route: request.path, error: describe(error) });
    }
    if (response.headersSent) {
      response.destroy();
      return;
    }
    response.writeHead(proberError.status, { ...proberError.headers, 'content-type': 'application/json; charset=utf-8' });
    response.end(JSON.stringify(proberError.toBody()));
  };
}

function toGatewayError(error: unknown): GatewayError {
  if (error instanceof GatewayError) return error;
  // Errors raised by Express or its body parsers carry a 4xx status: the client's fault, say so.
  const status = (error as { status?: unknown } | null)?.status;
  if (typeof status === 'number' && status >= 400 && status < 500) {
    return new GatewayError('The request could not be processed.', { status, code: 'invalid_request' });
  }
  return new GatewayError('The health prober had an internal error while processing the request.', {
    status: 500,
    code: 'internal_error',
    type: 'server_error',
    cause: error,
  });
}

function describe(error: unknown): Record<string, unknown> {
  return error instanceof Error ? { name: error.name, message: error.message, stack: error.stack } : { value: String(error) };
}
