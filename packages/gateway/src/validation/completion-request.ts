import { invalidRequest } from '@dosrouter/shared';
import { checkEstimateFields } from './estimate-fields.js';
import { readStreamFlags, requireModel, type ProxiedRequest } from './request-fields.js';

export function validateCompletionRequest(body: Record<string, unknown>): ProxiedRequest {
  const model = requireModel(body);
  const prompt = body.prompt;
  if (prompt !== undefined && prompt !== null && typeof prompt !== 'string' && !Array.isArray(prompt)) {
    throw invalidRequest('`prompt` must be a string or an array.', 'prompt', 'invalid_type');
  }
  checkEstimateFields(body);
  return { body, model, ...readStreamFlags(body) };
}
