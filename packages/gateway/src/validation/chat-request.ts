import { invalidRequest } from '@dosrouter/shared';
import { checkEstimateFields } from './estimate-fields.js';
import { isPlainObject, readStreamFlags, requireModel, type ProxiedRequest } from './request-fields.js';

const ROLES = new Set(['system', 'developer', 'user', 'assistant', 'tool', 'function']);

/** Checks what the gateway relies on and what is cheap to reject early; the backend validates the rest. */
export function validateChatRequest(body: Record<string, unknown>): ProxiedRequest {
  const model = requireModel(body);
  const messages = body.messages;
  if (messages === undefined || messages === null) {
    throw invalidRequest('You must provide a messages parameter.', 'messages', 'missing_required_parameter');
  }
  if (!Array.isArray(messages)) throw invalidRequest('`messages` must be an array.', 'messages', 'invalid_type');
  if (messages.length === 0) throw invalidRequest('`messages` must contain at least one message.', 'messages', 'invalid_value');
  messages.forEach((message: unknown, index) => {
    const param = `messages[${index}]`;
    if (!isPlainObject(message)) throw invalidRequest(`\`${param}\` must be an object.`, param, 'invalid_type');
    if (typeof message.role !== 'string' || !ROLES.has(message.role)) {
      throw invalidRequest(
        `\`${param}.role\` must be one of ${[...ROLES].join(', ')}.`,
        `${param}.role`,
        'invalid_value',
      );
    }
    const content = message.content;
    if (content !== undefined && content !== null && typeof content !== 'string' && !Array.isArray(content)) {
      throw invalidRequest(`\`${param}.content\` must be a string or an array of content parts.`, `${param}.content`, 'invalid_type');
    }
  });
  checkEstimateFields(body);
  if (body.tools !== undefined && body.tools !== null && !Array.isArray(body.tools)) {
    throw invalidRequest('`tools` must be an array.', 'tools', 'invalid_type');
  }
  return { body, model, ...readStreamFlags(body) };
}
