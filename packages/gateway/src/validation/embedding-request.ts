import { invalidRequest } from '@dosrouter/shared';
import { checkEstimateFields } from './estimate-fields.js';
import { requireModel, type ProxiedRequest } from './request-fields.js';

export function validateEmbeddingRequest(body: Record<string, unknown>): ProxiedRequest {
  const model = requireModel(body);
  const input = body.input;
  if (input === undefined || input === null) throw invalidRequest('You must provide an input parameter.', 'input', 'missing_required_parameter');
  const valid = (typeof input === 'string' && input.length > 0) || (Array.isArray(input) && input.length > 0);
  if (!valid) throw invalidRequest('`input` must be a non-empty string or a non-empty array.', 'input', 'invalid_value');
  checkEstimateFields(body);
  return { body, model, stream: false, includeUsage: false };
}
