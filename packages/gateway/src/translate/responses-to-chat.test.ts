import { describe, expect, it } from 'vitest';
import { chatToResponse, responsesToChat, type ResponseNames } from './responses-to-chat.js';
import type { ResponsesRequest } from './responses-types.js';

const PNG = 'data:image/png;base64,iVBORw0KGgo=';

describe('responsesToChat', () => {
  it('maps instructions, every input item and the settings to a Chat request', () => {
    const request: ResponsesRequest = {
      model: 'm',
      instructions: 'Be terse.',
      input: [
        { role: 'developer', content: 'Use metric units.' },
        { type: 'message', role: 'user', content: [{ type: 'input_text', text: 'Weather here?' }, { type: 'input_image', image_url: PNG, detail: 'low' }] },
        { type: 'reasoning', id: 'rs_1', summary: [] },
        { type: 'message', role: 'assistant', content: [{ type: 'output_text', text: 'Checking.', annotations: [] }] },
        { type: 'function_call', call_id: 'call_1', name: 'locate', arguments: '{}' },
        { type: 'function_call', call_id: 'call_2', name: 'weather', arguments: '{"city":"Oslo"}' },
        { type: 'function_call_output', call_id: 'call_1', output: 'Oslo' },
        { type: 'function_call_output', call_id: 'call_2', output: [{ type: 'input_text', text: '3 C' }, { type: 'input_image', image_url: PNG }] },
      ],
      tools: [{ type: 'function', name: 'weather', description: 'Weather', parameters: { type: 'object', properties: {} }, strict: true }],
      tool_choice: { type: 'function', name: 'weather' },
      parallel_tool_calls: false,
      max_output_tokens: 300,
      temperature: 0.5,
      top_p: 0.9,
      text: { format: { type: 'json_schema', name: 'w', schema: { type: 'object' }, strict: true }, verbosity: 'low' },
      reasoning: { effort: 'low', summary: 'auto' },
      metadata: { a: 'b' },
      stream: true,
      store: true,
      user: 'u-1',
    };
    expect(responsesToChat(request)).toEqual({
      model: 'm',
      messages: [
        { role: 'system', content: 'Be terse.' },
        { role: 'developer', content: 'Use metric units.' },
        { role: 'user', content: [{ type: 'text', text: 'Weather here?' }, { type: 'image_url', image_url: { url: PNG, detail: 'low' } }] },
        {
          role: 'assistant',
          content: 'Checking.',
          tool_calls: [
            { id: 'call_1', type: 'function', function: { name: 'locate', arguments: '{}' } },
            { id: 'call_2', type: 'function', function: { name: 'weather', arguments: '{"city":"Oslo"}' } },
          ],
        },
        { role: 'tool', tool_call_id: 'call_1', content: 'Oslo' },
        { role: 'tool', tool_call_id: 'call_2', content: '3 C' },
        { role: 'user', content: [{ type: 'image_url', image_url: { url: PNG } }] },
      ],
      stream: true,
      max_completion_tokens: 300,
      temperature: 0.5,
      top_p: 0.9,
      tools: [{ type: 'function', function: { name: 'weather', description: 'Weather', parameters: { type: 'object', properties: {} }, strict: true } }],
      tool_choice: { type: 'function', function: { name: 'weather' } },
      parallel_tool_calls: false,
      response_format: { type: 'json_schema', json_schema: { name: 'w', schema: { type: 'object' }, strict: true } },
      verbosity: 'low',
      reasoning_effort: 'low',
      user: 'u-1',
    });
  });

  it('takes a string input as one user message', () => {
    expect(responsesToChat({ model: 'm', input: 'Hi' })).toEqual({ model: 'm', messages: [{ role: 'user', content: 'Hi' }] });
  });
});

describe('chatToResponse', () => {
  const names: ResponseNames = { id: 'resp_x', model: 'asked', createdAt: 1_700_000_000, request: { model: 'asked', input: 'Hi', instructions: 'Be terse.', store: false } };

  it('makes reasoning, message and function_call items, usage and the request settings', () => {
    const response = chatToResponse(
      {
        id: 'chatcmpl-1',
        model: 'gpt-x',
        choices: [{ index: 0, message: { role: 'assistant', content: 'Hi.', refusal: null, reasoning_content: 'Hmm.', tool_calls: [{ id: 'call_9', type: 'function', function: { name: 'f', arguments: '{"a":1}' } }] }, finish_reason: 'tool_calls' }],
        usage: { prompt_tokens: 10, completion_tokens: 5, total_tokens: 15, prompt_tokens_details: { cached_tokens: 2 }, completion_tokens_details: { reasoning_tokens: 1 } },
      },
      names,
    );
    expect(response).toMatchObject({ id: 'resp_x', object: 'response', status: 'completed', model: 'gpt-x', instructions: 'Be terse.', store: false, error: null, incomplete_details: null });
    expect(response.output).toEqual([
      { type: 'reasoning', id: 'rs_x_0', summary: [], content: [{ type: 'reasoning_text', text: 'Hmm.' }] },
      { type: 'message', id: 'msg_x_1', role: 'assistant', status: 'completed', content: [{ type: 'output_text', text: 'Hi.', annotations: [], logprobs: [] }] },
      { type: 'function_call', id: 'fc_x_2', call_id: 'call_9', name: 'f', arguments: '{"a":1}', status: 'completed' },
    ]);
    expect(response.usage).toEqual({ input_tokens: 10, input_tokens_details: { cached_tokens: 2 }, output_tokens: 5, output_tokens_details: { reasoning_tokens: 1 }, total_tokens: 15 });
  });

  it('calls an answer cut at the length limit incomplete, and a refusal a refusal part', () => {
    const cut = chatToResponse({ choices: [{ message: { content: 'Half' }, finish_reason: 'length' }] }, names);
    expect(cut).toMatchObject({ status: 'incomplete', incomplete_details: { reason: 'max_output_tokens' }, model: 'asked' });
    const refused = chatToResponse({ choices: [{ message: { content: null, refusal: 'No.' }, finish_reason: 'stop' }] }, names);
    expect(refused.output).toEqual([{ type: 'message', id: 'msg_x_0', role: 'assistant', status: 'completed', content: [{ type: 'refusal', refusal: 'No.' }] }]);
  });
});
