import type { NextFunction, Request, Response } from 'express';

/**
 * Anthropic's routes also name the request's id in `request-id`, the header Anthropic sends and its SDKs read (as
 * `message._request_id`, and in their errors), beside `x-request-id`. Runs after the request context gave the id.
 */
export function anthropicRequestId() {
  return function anthropicRequestIdHeader(_request: Request, response: Response, next: NextFunction): void {
    const id = response.getHeader('x-request-id');
    if (id !== undefined) response.setHeader('request-id', id);
    next();
  };
}
