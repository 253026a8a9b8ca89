import type { Express, Request, RequestHandler, Response } from 'express';
import { VIRTUAL_MODELS, modelNotFound, type ApiKeyRecord, type ModelCatalog } from '@dosrouter/shared';
import type { KeyModelPermissions } from '../auth/key-models.js';

interface ModelObject {
  id: string;
  object: 'model';
  created: number;
  owned_by: string;
}

export interface ModelRoutesOptions {
  readonly catalog: ModelCatalog;
  /** The names of `routing.groups`. */
  readonly groups: readonly string[];
  readonly keyModels: KeyModelPermissions;
  readonly createdAtSeconds: number;
}

/**
 * `GET /v1/models` and `GET /v1/models/{model}` in OpenAI's shapes: the names clients may send, aliases, groups and
 * the virtual models (`auto`, `eco`, `premium`) included. A key with `allowedModels` sees only the names it may use
 * (KeyModelPermissions.mayName); any other name answers 404 as an unknown model would, so that a key cannot learn
 * what else the gateway serves. Open mode, and a key without `allowedModels`, see every name.
 */
export function registerModelRoutes(app: Express, context: RequestHandler | RequestHandler[], options: ModelRoutesOptions): void {
  const { catalog, keyModels, createdAtSeconds } = options;
  const entries = new Map<string, ModelObject>();
  for (const group of catalog.models()) {
    entries.set(group.name, { id: group.name, object: 'model', created: createdAtSeconds, owned_by: 'dosrouter' });
  }
  const names = [...catalog.aliasEntries().map(([alias]) => alias), ...options.groups, ...VIRTUAL_MODELS];
  for (const name of names) entries.set(name, { id: name, object: 'model', created: createdAtSeconds, owned_by: 'dosrouter' });
  const listBody = JSON.stringify({ object: 'list', data: [...entries.values()] });
  // One body per allowedModels list, kept while the key's cached record is (the authenticator refetches it each second).
  const keyListBodies = new WeakMap<readonly string[], string>();
  const listBodyFor = (allowed: readonly string[] | undefined): string => {
    if (allowed === undefined) return listBody;
    let body = keyListBodies.get(allowed);
    if (body === undefined) {
      const mayName = keyModels.mayName(allowed);
      body = JSON.stringify({ object: 'list', data: [...entries.values()].filter((entry) => mayName(entry.id)) });
      keyListBodies.set(allowed, body);
    }
    return body;
  };

  app.get('/v1/models', context, function listModels(_request: Request, response: Response) {
    response.setHeader('content-type', 'application/json; charset=utf-8');
    response.end(listBodyFor(allowedModelsOf(response)));
  });
  // Model names may contain slashes (`openai/gpt-4o`), so the id is every segment after /v1/models/.
  app.get('/v1/models/*model', context, function retrieveModel(request: Request<{ model: string[] }>, response: Response) {
    const id = request.params.model.join('/');
    const entry = entries.get(id);
    const allowed = allowedModelsOf(response);
    if (!entry || (allowed !== undefined && !keyModels.mayName(allowed)(id))) throw modelNotFound(id);
    response.json(entry);
  });
}

/** The caller's allowedModels; undefined in open mode or for a key that may use every model. */
function allowedModelsOf(response: Response): readonly string[] | undefined {
  return (response.locals.apiKey as ApiKeyRecord | undefined)?.allowedModels;
}
