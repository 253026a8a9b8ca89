import type { IncomingMessage, RequestListener, ServerResponse } from 'node:http';
import type { ErrorRequestHandler, Express, NextFunction, Request, RequestHandler, Response } from 'express';

/** Handler chains by exact path, for POST: the proxy routes (chat completions, completions, embeddings, responses). */
export type DirectRoutes = ReadonlyMap<string, readonly RequestHandler[]>;

/**
 * The servers' request listener. A POST whose path is exactly one of `routes` runs that route's handlers here, in
 * order, and an error any of them passes on (or throws, or rejects with) goes to `onError`, as Express would do it;
 * every other request goes to the Express app, which holds the same routes too. Express costs each request its
 * router walk, its request and response prototypes and their lazy getters: about a tenth of the gateway's CPU on
 * the proxy path (docs/decisions/0015-proxy-routes-beside-express.md).
 *
 * The handlers are the app's own middleware. They use only Node's fields of the request and the response, plus
 * what is set here as Express would: `request.path`, `request.body` (set by the JSON body middleware) and
 * `response.locals`.
 */
export function directRoutes(app: Express, routes: DirectRoutes, onError: ErrorRequestHandler): RequestListener {
  return function gatewayRequestListener(request: IncomingMessage, response: ServerResponse): void {
    const handlers = request.method === 'POST' ? routes.get(pathOf(request.url)) : undefined;
    if (handlers === undefined) {
      app(request, response);
      return;
    }
    runChain(handlers, asExpress(request, response), onError);
  };
}

/** The URL's path as Express routes it (before any query string); Express matches paths case- and slash-exactly here. */
function pathOf(url: string | undefined): string {
  if (url === undefined) return '';
  const query = url.indexOf('?');
  return query === -1 ? url : url.slice(0, query);
}

interface ExpressPair {
  readonly request: Request;
  readonly response: Response;
}

/** What the handlers read of Express's additions, set on Node's own objects (see directRoutes). */
function asExpress(request: IncomingMessage, response: ServerResponse): ExpressPair {
  const expressRequest = request as Request;
  const expressResponse = response as Response;
  (expressRequest as { path: string }).path = pathOf(request.url);
  expressResponse.locals = Object.create(null) as Response['locals'];
  return { request: expressRequest, response: expressResponse };
}

/**
 * Calls `handlers` in turn, each when the one before calls `next()`. `next(error)`, a throw or a rejected promise
 * ends the chain in `onError`, as in Express 5; a chain that runs out without an answer is an error too.
 */
function runChain(handlers: readonly RequestHandler[], { request, response }: ExpressPair, onError: ErrorRequestHandler): void {
  let index = 0;
  let failed = false;
  const fail = (error: unknown): void => {
    if (failed) return;
    failed = true;
    try {
      onError(error, request, response, (unhandled?: unknown) => {
        if (unhandled !== undefined) response.destroy();
      });
    } catch {
      response.destroy();
    }
  };
  const next: NextFunction = (error?: unknown): void => {
    if (error !== undefined && error !== null) {
      fail(error);
      return;
    }
    const handler = handlers[index];
    index += 1;
    if (handler === undefined) {
      fail(new Error(`no handler answered ${request.method} ${request.path}`));
      return;
    }
    try {
      const result: unknown = handler(request, response, next);
      if (result instanceof Promise) result.then(undefined, (rejection: unknown) => fail(rejection ?? new Error('Rejected promise')));
    } catch (thrown) {
      fail(thrown);
    }
  };
  next();
}
