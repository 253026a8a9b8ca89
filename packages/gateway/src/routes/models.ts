import type { Express, Request, RequestHandler, Response } from 'express';
import { VIRTUAL_MODELS, modelNotFound, type ApiKeyRecord } from '@dosrouter/shared';
import type { ConfigSnapshot } from '../reload/config-snapshot.js';
import { contextOf } from '../request/request-context.js';

interface ModelObject {
  id: string;
  object: 'model';
  created: number;
  owned_by: string;
}

export interface ModelRoutesOptions {
  readonly createdAtSeconds: number;
}

/** One config's model names and list body, made on the first request that runs on that config. */
interface ModelListing {
  readonly entries: ReadonlyMap<string, ModelObject>;
  readonly listBody: string;
  /** One body per allowedModels list, kept while the key's cached record is (the authenticator refetches it each second). */
  readonly keyListBodies: WeakMap<readonly string[], string>;
}

function listingOf(config: ConfigSnapshot, createdAtSeconds: number): ModelListing {
  const { catalog } = config;
  const entries = new Map<string, ModelObject>();
  for (const group of catalog.models()) {
    entries.set(group.name, { id: group.name, object: 'model', created: createdAtSeconds, owned_by: 'dosrouter' });
  }
  const names = [...catalog.aliasEntries().map(([alias]) => alias), ...Object.keys(config.config.routing.groups), ...VIRTUAL_MODELS];
  for (const name of names) entries.set(name, { id: name, object: 'model', created: createdAtSeconds, owned_by: 'dosrouter' });
  return { entries, listBody: JSON.stringify({ object: 'list', data: [...entries.values()] }), keyListBodies: new WeakMap() };
}

/**
 * `GET /v1/models` and `GET /v1/models/{model}` in OpenAI's shapes: the names clients may send, aliases, groups and
 * the virtual models (`auto`, `eco`, `premium`) included, as the config the request runs on has them. A key with
 * `allowedModels` sees only the names it may use (KeyModelPermissions.mayName); any other name answers 404 as an
 * unknown model would, so that a key cannot learn what else the gateway serves. Open mode, and a key without
 * `allowedModels`, see every name.
 */
export function registerModelRoutes(app: Express, context: RequestHandler | RequestHandler[], { createdAtSeconds }: ModelRoutesOptions): void {
  const listings = new WeakMap<ConfigSnapshot, ModelListing>();
  const listingFor = (response: Response): { listing: ModelListing; config: ConfigSnapshot } => {
    const { config } = contextOf(response);
    let listing = listings.get(config);
    if (listing === undefined) {
      listing = listingOf(config, createdAtSeconds);
      listings.set(config, listing);
    }
    return { listing, config };
  };
  const listBodyFor = (response: Response): string => {
    const { listing, config } = listingFor(response);
    const allowed = allowedModelsOf(response);
    if (allowed === undefined) return listing.listBody;
    let body = listing.keyListBodies.get(allowed);
    if (body === undefined) {
      const mayName = config.keyModels.mayName(allowed);
      body = JSON.stringify({ object: 'list', data: [...listing.entries.values()].filter((entry) => mayName(entry.id)) });
      listing.keyListBodies.set(allowed, body);
    }
    return body;
  };

  app.get('/v1/models', context, function listModels(_request: Request, response: Response) {
    response.setHeader('content-type', 'application/json; charset=utf-8');
    response.end(listBodyFor(response));
  });
  // Model names may contain slashes (`openai/gpt-4o`), so the id is every segment after /v1/models/.
  app.get('/v1/models/*model', context, function retrieveModel(request: Request<{ model: string[] }>, response: Response) {
    const id = request.params.model.join('/');
    const { listing, config } = listingFor(response);
    const entry = listing.entries.get(id);
    const allowed = allowedModelsOf(response);
    if (!entry || (allowed !== undefined && !config.keyModels.mayName(allowed)(id))) throw modelNotFound(id);
    response.json(entry);
  });
}

/** The caller's allowedModels; undefined in open mode or for a key that may use every model. */
function allowedModelsOf(response: Response): readonly string[] | undefined {
  return (response.locals.apiKey as ApiKeyRecord | undefined)?.allowedModels;
}
