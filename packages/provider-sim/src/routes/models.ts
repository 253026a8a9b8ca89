import { modelNotFoundError } from '../http/http-error.js';
import type { RouteContext } from './route-context.js';

const OWNER = 'dosrouter-sim';

/** GET /v1/models, in a shape both OpenAI's and Anthropic's clients read (each ignores the other's fields). */
export async function handleListModels(context: RouteContext): Promise<void> {
  const { options, startedAtSeconds } = context.state;
  const ids = [...options.models.keys()];
  const createdAt = new Date(startedAtSeconds * 1000).toISOString();
  const data = ids.map((id) => ({ id, object: 'model', created: startedAtSeconds, owned_by: OWNER, type: 'model', display_name: id, created_at: createdAt }));
  context.exchange.sendJson(200, { object: 'list', data, has_more: false, first_id: ids[0] ?? null, last_id: ids.at(-1) ?? null });
}

/** GET /v1/models/{model} */
export async function handleRetrieveModel(context: RouteContext, modelId: string): Promise<void> {
  if (!context.state.options.models.has(modelId)) {
    throw modelNotFoundError(modelId);
  }
  context.exchange.sendJson(200, { id: modelId, object: 'model', created: context.state.startedAtSeconds, owned_by: OWNER });
}
