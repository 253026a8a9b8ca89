import type { Express, Request, RequestHandler, Response } from 'express';
import type { ApiKeyRecord } from '@dosrouter/shared';
import type { StoredResponses } from './stored-responses.js';

/**
 * `GET /v1/responses/{id}` (the Response object) and `DELETE /v1/responses/{id}` (`{id, object: "response", deleted:
 * true}`), OpenAI's shapes, behind the same authentication as every /v1 route. A response is the key's that made it:
 * another key's, an expired or an absent one all answer the same 404 `not_found`.
 */
export function registerStoredResponseRoutes(app: Express, context: RequestHandler[], responses: StoredResponses): void {
  app.get('/v1/responses/:id', context, async function readStoredResponse(request: Request<{ id: string }>, response: Response) {
    const stored = await responses.read(keyIdOf(response), request.params.id);
    response.json(stored);
  });
  app.delete('/v1/responses/:id', context, async function deleteStoredResponse(request: Request<{ id: string }>, response: Response) {
    await responses.remove(keyIdOf(response), request.params.id);
    response.json({ id: request.params.id, object: 'response', deleted: true });
  });
}

function keyIdOf(response: Response): string | undefined {
  return (response.locals.apiKey as ApiKeyRecord | undefined)?.id;
}
