import { describe, expect, it } from 'vitest';
import { GatewayError } from '@dosrouter/shared';
import { validateResponsesRequest } from './responses-request.js';

function errorOf(body: Record<string, unknown>): GatewayError {
  try {
    validateResponsesRequest(body);
  } catch (error) {
    if (error instanceof GatewayError) return error;
    throw error;
  }
  throw new Error('expected the request to be refused');
}

describe('validateResponsesRequest', () => {
  it('keeps the request as sent and its Chat translation, metadata for the rules', () => {
    const proxied = validateResponsesRequest({ model: 'm', input: 'Hi', stream: true, metadata: { team: 'a' }, user: 'u' });
    expect(proxied).toMatchObject({ model: 'm', stream: true, includeUsage: false, sessionId: 'u', body: { messages: [{ role: 'user', content: 'Hi' }], metadata: { team: 'a' } } });
    expect(proxied.responses).toMatchObject({ input: 'Hi' });
  });

  it.each([
    [{ input: 'x' }, 'model'],
    [{ model: 'm' }, 'input'],
    [{ model: 'm', input: [] }, 'input'],
    [{ model: 'm', input: [{ type: 'message', role: 'tool', content: 'x' }] }, 'input[0].role'],
    [{ model: 'm', input: [{ role: 'user', content: [{ type: 'output_text', text: 'x' }] }] }, 'input[0].content[0].type'],
    [{ model: 'm', input: [{ role: 'user', content: [{ type: 'input_image' }] }] }, 'input[0].content[0].image_url'],
    [{ model: 'm', input: [{ type: 'function_call', call_id: 'c', name: 'f' }] }, 'input[0].arguments'],
    [{ model: 'm', input: [{ type: 'function_call_output', output: 'x' }] }, 'input[0].call_id'],
    [{ model: 'm', input: [{ type: 'item_reference', id: 'msg_1' }] }, 'input[0].type'],
    [{ model: 'm', input: [{ type: 'computer_call_output' }] }, 'input[0].type'],
    [{ model: 'm', input: 'x', tools: [{ type: 'file_search' }] }, 'tools[0].type'],
    [{ model: 'm', input: 'x', tools: [{ type: 'function' }] }, 'tools[0].name'],
    [{ model: 'm', input: 'x', tool_choice: { type: 'web_search_preview' } }, 'tool_choice.type'],
    [{ model: 'm', input: 'x', max_output_tokens: 0 }, 'max_output_tokens'],
    [{ model: 'm', input: 'x', temperature: 3 }, 'temperature'],
    [{ model: 'm', input: 'x', top_p: -1 }, 'top_p'],
    [{ model: 'm', input: 'x', text: { format: { type: 'json_schema', name: 'n' } } }, 'text.format.schema'],
    [{ model: 'm', input: 'x', text: { format: { type: 'yaml' } } }, 'text.format.type'],
    [{ model: 'm', input: 'x', reasoning: { effort: 'max' } }, 'reasoning.effort'],
    [{ model: 'm', input: 'x', metadata: { a: 1 } }, 'metadata.a'],
    [{ model: 'm', input: 'x', stream: 'yes' }, 'stream'],
    [{ model: 'm', input: 'x', store: 1 }, 'store'],
    [{ model: 'm', input: 'x', previous_response_id: 5 }, 'previous_response_id'],
    [{ model: 'm', input: 'x', background: true }, 'background'],
    [{ model: 'm', input: 'x', conversation: 'conv_1' }, 'conversation'],
  ])('refuses %j with a 400 naming %s', (body, param) => {
    const error = errorOf(body);
    expect(error.status).toBe(400);
    expect(error.type).toBe('invalid_request_error');
    expect(error.param).toBe(param);
    expect(error.message).toContain(param);
  });
});
