import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import express, { type ErrorRequestHandler, type NextFunction, type Request, type RequestHandler, type Response } from 'express';
import { afterEach, describe, expect, it } from 'vitest';
import { directRoutes } from './direct-routes.js';

/** Answers with what the chain saw: which handlers ran, the path, the locals. */
const answer: RequestHandler = (request, response) => {
  response.writeHead(200, { 'content-type': 'application/json' });
  response.end(JSON.stringify({ path: request.path, locals: { ...response.locals }, served: 'direct' }));
};

const note =
  (name: string): RequestHandler =>
  (_request: Request, response: Response, next: NextFunction) => {
    response.locals[name] = true;
    next();
  };

const onError: ErrorRequestHandler = (error: unknown, _request, response) => {
  response.writeHead(500, { 'content-type': 'application/json' });
  response.end(JSON.stringify({ error: (error as Error).message }));
};

let server: Server | undefined;

afterEach(async () => {
  await new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve()));
  server = undefined;
});

async function serve(routes: Map<string, RequestHandler[]>): Promise<string> {
  const app = express();
  app.all('/{*rest}', (request, response) => {
    response.json({ served: 'express', path: request.path });
  });
  server = createServer(directRoutes(app, routes, onError));
  await new Promise<void>((resolve) => server!.listen(0, '127.0.0.1', () => resolve()));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

describe('the direct routes listener', () => {
  it('runs the chain of an exact POST path in order, with Express’s path and locals', async () => {
    const url = await serve(new Map([['/v1/chat/completions', [note('first'), note('second'), answer]]]));
    const response = await fetch(`${url}/v1/chat/completions?ignored=1`, { method: 'POST', body: '{}' });
    expect(await response.json()).toEqual({ path: '/v1/chat/completions', locals: { first: true, second: true }, served: 'direct' });
  });

  it('leaves other methods, spellings and paths to Express', async () => {
    const url = await serve(new Map([['/v1/chat/completions', [answer]]]));
    for (const [method, path] of [
      ['GET', '/v1/chat/completions'],
      ['POST', '/v1/chat/completions/'],
      ['POST', '/V1/chat/completions'],
      ['POST', '/v1/models'],
    ] as const) {
      const response = await fetch(`${url}${path}`, { method, ...(method === 'POST' ? { body: '{}' } : {}) });
      expect(((await response.json()) as { served: string }).served).toBe('express');
    }
  });

  describe('when a handler fails', () => {
    const failures: Record<string, RequestHandler> = {
      'passes an error to next': (_request, _response, next) => next(new Error('passed on')),
      throws: () => {
        throw new Error('thrown');
      },
      rejects: async () => {
        await Promise.resolve();
        throw new Error('rejected');
      },
      'calls next at the end of the chain': (_request, _response, next) => next(),
    };
    for (const [how, handler] of Object.entries(failures)) {
      it(`ends in the error handler when it ${how}, and runs nothing after it`, async () => {
        let ranAfter = false;
        const after: RequestHandler = (_request, _response, next) => {
          ranAfter = true;
          next();
        };
        const url = await serve(new Map([['/v1/embeddings', [note('first'), handler, ...(how.startsWith('calls next') ? [] : [after])]]]));
        const response = await fetch(`${url}/v1/embeddings`, { method: 'POST', body: '{}' });
        expect(response.status).toBe(500);
        const { error } = (await response.json()) as { error: string };
        expect(error).toBe(
          { 'passes an error to next': 'passed on', throws: 'thrown', rejects: 'rejected', 'calls next at the end of the chain': 'no handler answered POST /v1/embeddings' }[how],
        );
        expect(ranAfter).toBe(false);
      });
    }
  });
});
