import { modelNotFoundError } from '../http/http-error.js';
import type { RouteContext } from './route-context.js';

const OWNER = 'dosrouter-sim';

/** GET /v1/models */
export async function handleListModels(context: RouteContext): Promise<void> {
  const { options, startedAtSeconds } = context.state;
  const data = [...options.models.keys()].map((id) => ({ id, object: 'model', created: startedAtSeconds, owned_by: OWNER }));
  context.exchange.sendJson(200, { object: 'list', data });
}

/** GET /v1/models/{model} */
export async function handleRetrieveModel(context: RouteContext, modelId: string): Promise<void> {
  if (!context.state.options.models.has(modelId)) {
    throw modelNotFoundError(modelId);
  }
  context.exchange.sendJson(200, { id: modelId, object: 'model', created: context.state.startedAtSeconds, owned_by: OWNER });
}
