import type { Express, Request, RequestHandler, Response } from 'express';
import { VIRTUAL_MODELS, modelNotFound, type ModelCatalog } from '@dosrouter/shared';

interface ModelObject {
  id: string;
  object: 'model';
  created: number;
  owned_by: string;
}

/**
 * `GET /v1/models` and `GET /v1/models/{model}` in OpenAI's shapes: the names clients may send, aliases, groups and
 * the virtual models (`auto`, `eco`, `premium`) included.
 */
export function registerModelRoutes(app: Express, context: RequestHandler | RequestHandler[], catalog: ModelCatalog, groups: readonly string[], createdAtSeconds: number): void {
  const entries = new Map<string, ModelObject>();
  for (const group of catalog.models()) {
    entries.set(group.name, { id: group.name, object: 'model', created: createdAtSeconds, owned_by: 'dosrouter' });
  }
  const names = [...catalog.aliasEntries().map(([alias]) => alias), ...groups, ...VIRTUAL_MODELS];
  for (const name of names) entries.set(name, { id: name, object: 'model', created: createdAtSeconds, owned_by: 'dosrouter' });
  const listBody = JSON.stringify({ object: 'list', data: [...entries.values()] });
  app.get('/v1/models', context, function listModels(_request: Request, response: Response) {
    response.setHeader('content-type', 'application/json; charset=utf-8');
    response.end(listBody);
  });
  // Model names may contain slashes (`openai/gpt-4o`), so the id is every segment after /v1/models/.
  app.get('/v1/models/*model', context, function retrieveModel(request: Request<{ model: string[] }>, response: Response) {
    const id = request.params.model.join('/');
    const entry = entries.get(id);
    if (!entry) throw modelNotFound(id);
    response.json(entry);
  });
}
