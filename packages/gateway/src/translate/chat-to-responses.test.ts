import { describe, expect, it } from 'vitest';
import { GatewayError } from '@dosrouter/shared';
import { responseToChatCompletion, toResponsesRequest } from './chat-to-responses.js';

describe('toResponsesRequest', () => {
  it('maps messages to input items and the settings to their Responses names', () => {
    const body = {
      model: 'client',
      messages: [
        { role: 'system', content: 'Be terse.' },
        { role: 'user', content: [{ type: 'text', text: 'Look:' }, { type: 'image_url', image_url: { url: 'https://x/y.png', detail: 'high' } }] },
        { role: 'assistant', content: 'Checking.', tool_calls: [{ id: 'call_1', type: 'function', function: { name: 'f', arguments: '{"a":1}' } }] },
        { role: 'tool', tool_call_id: 'call_1', content: [{ type: 'text', text: 'done' }] },
      ],
      tools: [{ type: 'function', function: { name: 'f', parameters: { type: 'object' } } }],
      tool_choice: { type: 'function', function: { name: 'f' } },
      response_format: { type: 'json_schema', json_schema: { name: 's', schema: { type: 'object' }, strict: true } },
      max_tokens: 64,
      temperature: 0.2,
      reasoning_effort: 'high',
      stream_options: { include_usage: true },
      seed: 7,
    };
    expect(toResponsesRequest(body, true, 'upstream')).toEqual({
      model: 'upstream',
      input: [
        { role: 'system', content: 'Be terse.' },
        { role: 'user', content: [{ type: 'input_text', text: 'Look:' }, { type: 'input_image', image_url: 'https://x/y.png', detail: 'high' }] },
        { role: 'assistant', content: 'Checking.' },
        { type: 'function_call', call_id: 'call_1', name: 'f', arguments: '{"a":1}' },
        { type: 'function_call_output', call_id: 'call_1', output: 'done' },
      ],
      store: false,
      max_output_tokens: 64,
      temperature: 0.2,
      tools: [{ type: 'function', name: 'f', parameters: { type: 'object' }, strict: false }],
      tool_choice: { type: 'function', name: 'f' },
      text: { format: { type: 'json_schema', name: 's', schema: { type: 'object' }, strict: true } },
      reasoning: { effort: 'high' },
      stream: true,
    });
  });

  it('refuses what a Response cannot carry, naming the field', () => {
    for (const [field, value] of [['stop', ['END']], ['n', 2], ['logprobs', true]] as const) {
      let error: unknown;
      try {
        toResponsesRequest({ model: 'm', messages: [{ role: 'user', content: 'x' }], [field]: value }, false, 'm');
      } catch (caught) {
        error = caught;
      }
      expect(error).toBeInstanceOf(GatewayError);
      expect(error).toMatchObject({ status: 400, param: field, code: 'unsupported_by_deployment' });
    }
  });
});

describe('responseToChatCompletion', () => {
  it('makes a chat.completion of a Response: text, reasoning, tool calls, usage', () => {
    const completion = responseToChatCompletion(
      {
        id: 'resp_1',
        object: 'response',
        status: 'completed',
        model: 'gpt-x',
        output: [
          { type: 'reasoning', id: 'rs', summary: [{ type: 'summary_text', text: 'Thought.' }] },
          { type: 'message', id: 'msg', role: 'assistant', content: [{ type: 'output_text', text: 'Hi.', annotations: [] }] },
          { type: 'function_call', id: 'fc', call_id: 'call_1', name: 'f', arguments: '{}' },
        ],
        usage: { input_tokens: 8, input_tokens_details: { cached_tokens: 0 }, output_tokens: 4, output_tokens_details: { reasoning_tokens: 2 }, total_tokens: 12 },
      },
      1_700_000_000,
    );
    expect(completion).toEqual({
      id: 'resp_1',
      object: 'chat.completion',
      created: 1_700_000_000,
      model: 'gpt-x',
      choices: [
        {
          index: 0,
          message: { role: 'assistant', content: 'Hi.', refusal: null, reasoning_content: 'Thought.', tool_calls: [{ id: 'call_1', type: 'function', function: { name: 'f', arguments: '{}' } }] },
          logprobs: null,
          finish_reason: 'tool_calls',
        },
      ],
      usage: { prompt_tokens: 8, completion_tokens: 4, total_tokens: 12, prompt_tokens_details: { cached_tokens: 0 }, completion_tokens_details: { reasoning_tokens: 2 } },
    });
  });

  it('is undefined for a failed Response or one that is not a Response', () => {
    expect(responseToChatCompletion({ object: 'response', status: 'failed', output: [] }, 0)).toBeUndefined();
    expect(responseToChatCompletion({ choices: [] }, 0)).toBeUndefined();
  });
});
