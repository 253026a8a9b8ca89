import { deliverJson } from '../../delivery/json-delivery.js';
import { embeddingVector, encodeFloat32Base64 } from '../../generation/embedding-vector.js';
import { hashParts } from '../../generation/hash.js';
import { requireJsonObject } from '../../http/request-body.js';
import { generationDelayMs, startAnswer } from '../model-answer.js';
import type { RouteContext } from '../route-context.js';
import { parseEmbeddingRequest, type EmbeddingRequest } from './embeddings-request.js';

/** Embeddings report prompt tokens only; a model that reports no usage sends none. */
export interface EmbeddingUsage {
  prompt_tokens: number;
  total_tokens: number;
}

function embeddingUsage(request: EmbeddingRequest): EmbeddingUsage | undefined {
  return request.model.reportsUsage ? { prompt_tokens: request.promptTokens, total_tokens: request.promptTokens } : undefined;
}

/** The `list` of embeddings; each vector depends only on (model id, input, dimensions). */
export function buildEmbeddingList(
  request: EmbeddingRequest,
  empty: boolean,
  usage: EmbeddingUsage | undefined,
): Record<string, unknown> {
  const data = empty
    ? []
    : request.inputs.map((input, index) => {
        const vector = embeddingVector(hashParts([request.model.id, input.key, request.dimensions]), request.dimensions);
        return {
          object: 'embedding',
          index,
          embedding: request.encoding === 'base64' ? encodeFloat32Base64(vector) : Array.from(vector),
        };
      });
  return {
    object: 'list',
    data,
    model: request.model.id,
    ...(usage === undefined ? {} : { usage }),
  };
}

/** POST /v1/embeddings. Only the first-token delay applies: an embedding is one forward pass with no tokens out. */
export async function handleEmbeddings(context: RouteContext): Promise<void> {
  const request = parseEmbeddingRequest(requireJsonObject(context.body), context.state.options.models);
  const start = await startAnswer(context, request.model, { promptTokens: request.promptTokens, promptParam: 'input', stream: false });
  if (!start.proceed) {
    return;
  }
  const usage = embeddingUsage(request);
  const body = buildEmbeddingList(request, start.fault?.kind === 'empty', usage);
  await deliverJson(context.exchange, body, generationDelayMs(request.model, 0), start.fault, usage, request.model.jsonStyle);
}
