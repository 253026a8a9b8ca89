import { GatewayError, invalidRequest } from '@dosrouter/shared';
import { describe, expect, it } from 'vitest';
import { inResponsesTerms, responsesParamOf } from './responses-param-names.js';

describe('responsesParamOf', () => {
  it.each([
    ['response_format', 'text.format'],
    ['response_format.json_schema.schema', 'text.format.schema'],
    ['max_completion_tokens', 'max_output_tokens'],
    ['reasoning_effort', 'reasoning.effort'],
    ['messages[2].content[0].file', 'input'],
    ['messages', 'input'],
    ['tools[1]', 'tools[1]'],
    ['tool_choice', 'tool_choice'],
    ['messages_extra', 'messages_extra'],
  ])('names %s as %s', (chat, responses) => {
    expect(responsesParamOf(chat)).toBe(responses);
  });
});

describe('inResponsesTerms', () => {
  it('renames the param and the message’s quote of it, keeping status and code', () => {
    const renamed = inResponsesTerms(invalidRequest('`response_format` of type json_schema cannot be sent to a native Anthropic deployment.', 'response_format', 'unsupported_by_deployment'));
    expect(renamed).toBeInstanceOf(GatewayError);
    expect((renamed as GatewayError).toBody()).toEqual({
      error: { message: '`text.format` of type json_schema cannot be sent to a native Anthropic deployment.', type: 'invalid_request_error', param: 'text.format', code: 'unsupported_by_deployment' },
    });
    expect((renamed as GatewayError).status).toBe(400);
  });

  it('leaves an error of a shared field, or not a GatewayError, as it is', () => {
    const shared = invalidRequest('`tool_choice` must be none, auto, required or a function.', 'tool_choice', 'invalid_value');
    expect(inResponsesTerms(shared)).toBe(shared);
    const other = new Error('boom');
    expect(inResponsesTerms(other)).toBe(other);
  });
});
