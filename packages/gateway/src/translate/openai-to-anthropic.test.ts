import { describe, expect, it } from 'vitest';
import { GatewayError } from '@dosrouter/shared';
import { chatUsageOf, toAnthropicRequest, toChatCompletion, type AnthropicTranslationOptions } from './openai-to-anthropic.js';
import type { Message } from './anthropic-types.js';

const OPTIONS: AnthropicTranslationOptions = { model: 'claude-sonnet-4-5', defaultMaxTokens: 4096, cache: { system: false, tools: false } };
const PNG = 'iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg==';

function translate(body: Record<string, unknown>, options: Partial<AnthropicTranslationOptions> = {}, stream = false) {
  return toAnthropicRequest(body, stream, { ...OPTIONS, ...options });
}

function refusal(body: Record<string, unknown>): GatewayError {
  try {
    translate(body);
  } catch (error) {
    if (error instanceof GatewayError) return error;
    throw error;
  }
  throw new Error('the request was translated');
}

describe('toAnthropicRequest', () => {
  it('moves system and developer messages into system blocks and keeps the turns', () => {
    const request = translate({
      model: 'claude',
      messages: [
        { role: 'system', content: 'You are terse.' },
        { role: 'developer', content: [{ type: 'text', text: 'Answer in French.' }] },
        { role: 'user', content: 'Hello' },
      ],
    });
    expect(request).toEqual({
      model: 'claude-sonnet-4-5',
      max_tokens: 4096,
      system: [
        { type: 'text', text: 'You are terse.' },
        { type: 'text', text: 'Answer in French.' },
      ],
      messages: [{ role: 'user', content: [{ type: 'text', text: 'Hello' }] }],
    });
  });

  it('takes max_completion_tokens, then max_tokens, then the configured default', () => {
    expect(translate({ messages: [{ role: 'user', content: 'x' }], max_completion_tokens: 100, max_tokens: 50 }).max_tokens).toBe(100);
    expect(translate({ messages: [{ role: 'user', content: 'x' }], max_tokens: 50 }).max_tokens).toBe(50);
    expect(translate({ messages: [{ role: 'user', content: 'x' }] }, { defaultMaxTokens: 777 }).max_tokens).toBe(777);
  });

  it('maps stop, temperature (capped at 1), top_p, user and stream', () => {
    const request = translate({ messages: [{ role: 'user', content: 'x' }], stop: 'END', temperature: 1.6, top_p: 0.9, user: 'u-1' }, {}, true);
    expect(request).toMatchObject({ stop_sequences: ['END'], temperature: 1, top_p: 0.9, metadata: { user_id: 'u-1' }, stream: true });
    expect(translate({ messages: [{ role: 'user', content: 'x' }], stop: ['a', 'b'] }).stop_sequences).toEqual(['a', 'b']);
  });

  it('turns data URLs into base64 images, http URLs into url images and PDF files into documents', () => {
    const request = translate({
      messages: [
        {
          role: 'user',
          content: [
            { type: 'text', text: 'What is in these?' },
            { type: 'image_url', image_url: { url: `data:image/png;base64,${PNG}`, detail: 'high' } },
            { type: 'image_url', image_url: { url: 'https://example.com/cat.jpg' } },
            { type: 'file', file: { filename: 'a.pdf', file_data: 'data:application/pdf;base64,JVBERi0xLjQK' } },
          ],
        },
      ],
    });
    expect(request.messages[0]!.content).toEqual([
      { type: 'text', text: 'What is in these?' },
      { type: 'image', source: { type: 'base64', media_type: 'image/png', data: PNG } },
      { type: 'image', source: { type: 'url', url: 'https://example.com/cat.jpg' } },
      { type: 'document', source: { type: 'base64', media_type: 'application/pdf', data: 'JVBERi0xLjQK' } },
    ]);
  });

  it('turns tool calls into tool_use blocks and tool messages into one user turn of tool_result blocks with the same ids', () => {
    const request = translate({
      messages: [
        { role: 'user', content: 'Weather in Paris and Rome?' },
        {
          role: 'assistant',
          content: 'Checking.',
          tool_calls: [
            { id: 'call_1', type: 'function', function: { name: 'weather', arguments: '{"city":"Paris"}' } },
            { id: 'call_2', type: 'function', function: { name: 'weather', arguments: '{"city":"Rome"}' } },
          ],
        },
        { role: 'tool', tool_call_id: 'call_1', content: 'sunny' },
        { role: 'tool', tool_call_id: 'call_2', content: [{ type: 'text', text: 'rain' }] },
        { role: 'user', content: 'Thanks. Which is warmer?' },
      ],
    });
    expect(request.messages).toEqual([
      { role: 'user', content: [{ type: 'text', text: 'Weather in Paris and Rome?' }] },
      {
        role: 'assistant',
        content: [
          { type: 'text', text: 'Checking.' },
          { type: 'tool_use', id: 'call_1', name: 'weather', input: { city: 'Paris' } },
          { type: 'tool_use', id: 'call_2', name: 'weather', input: { city: 'Rome' } },
        ],
      },
      {
        role: 'user',
        content: [
          { type: 'tool_result', tool_use_id: 'call_1', content: [{ type: 'text', text: 'sunny' }] },
          { type: 'tool_result', tool_use_id: 'call_2', content: [{ type: 'text', text: 'rain' }] },
          { type: 'text', text: 'Thanks. Which is warmer?' },
        ],
      },
    ]);
  });

  it("drops an earlier assistant turn's refusal part", () => {
    const request = translate({
      messages: [
        { role: 'user', content: 'x' },
        { role: 'assistant', content: [{ type: 'text', text: 'Partly.' }, { type: 'refusal', refusal: 'Not that part.' }] },
        { role: 'user', content: 'ok' },
      ],
    });
    expect(request.messages[1]).toEqual({ role: 'assistant', content: [{ type: 'text', text: 'Partly.' }] });
  });

  it('merges consecutive messages of one role, as Messages requires alternating turns', () => {
    const request = translate({
      messages: [
        { role: 'user', content: 'one' },
        { role: 'user', content: 'two' },
        { role: 'assistant', content: 'three' },
        { role: 'assistant', content: null },
        { role: 'assistant', content: 'four' },
      ],
    });
    expect(request.messages).toEqual([
      { role: 'user', content: [{ type: 'text', text: 'one' }, { type: 'text', text: 'two' }] },
      { role: 'assistant', content: [{ type: 'text', text: 'three' }, { type: 'text', text: 'four' }] },
    ]);
  });

  it('maps tools and tool_choice, parallel_tool_calls: false included', () => {
    const tools = [
      { type: 'function', function: { name: 'weather', description: 'Weather now', parameters: { type: 'object', properties: { city: { type: 'string' } }, required: ['city'] } } },
      { type: 'function', function: { name: 'time' } },
    ];
    const request = translate({ messages: [{ role: 'user', content: 'x' }], tools, tool_choice: 'required', parallel_tool_calls: false });
    expect(request.tools).toEqual([
      { name: 'weather', description: 'Weather now', input_schema: { type: 'object', properties: { city: { type: 'string' } }, required: ['city'] } },
      { name: 'time', input_schema: { type: 'object', properties: {} } },
    ]);
    expect(request.tool_choice).toEqual({ type: 'any', disable_parallel_tool_use: true });
    const named = translate({ messages: [{ role: 'user', content: 'x' }], tools, tool_choice: { type: 'function', function: { name: 'time' } } });
    expect(named.tool_choice).toEqual({ type: 'tool', name: 'time' });
    expect(translate({ messages: [{ role: 'user', content: 'x' }], tools, tool_choice: 'none' }).tool_choice).toEqual({ type: 'none' });
    expect(translate({ messages: [{ role: 'user', content: 'x' }], tool_choice: 'auto' }).tool_choice).toBeUndefined();
  });

  it('puts cache_control on the last system block and the last tool when the config asks', () => {
    const request = translate(
      {
        messages: [{ role: 'system', content: 'a' }, { role: 'system', content: 'b' }, { role: 'user', content: 'x' }],
        tools: [{ type: 'function', function: { name: 'one' } }, { type: 'function', function: { name: 'two' } }],
      },
      { cache: { system: true, tools: true } },
    );
    expect(request.system).toEqual([{ type: 'text', text: 'a' }, { type: 'text', text: 'b', cache_control: { type: 'ephemeral' } }]);
    expect(request.tools![0]).not.toHaveProperty('cache_control');
    expect(request.tools![1]).toMatchObject({ name: 'two', cache_control: { type: 'ephemeral' } });
  });

  it('asks for the one-hour cache when the config says so', () => {
    const request = translate({ messages: [{ role: 'system', content: 'a' }, { role: 'user', content: 'x' }] }, { cache: { system: true, tools: false, ttl: '1h' } });
    expect(request.system).toEqual([{ type: 'text', text: 'a', cache_control: { type: 'ephemeral', ttl: '1h' } }]);
  });

  it('keeps a cache_control a client put on a text part', () => {
    const request = translate({ messages: [{ role: 'user', content: [{ type: 'text', text: 'long document', cache_control: { type: 'ephemeral' } }] }] });
    expect(request.messages[0]!.content).toEqual([{ type: 'text', text: 'long document', cache_control: { type: 'ephemeral' } }]);
  });

  it('turns reasoning_effort into a thinking budget below max_tokens, leaving out temperature', () => {
    const request = translate({ messages: [{ role: 'user', content: 'x' }], reasoning_effort: 'high', max_completion_tokens: 8000, temperature: 0.2 });
    expect(request.thinking).toEqual({ type: 'enabled', budget_tokens: 7999 });
    expect(request).not.toHaveProperty('temperature');
    expect(translate({ messages: [{ role: 'user', content: 'x' }], reasoning_effort: 'low' }).thinking).toEqual({ type: 'enabled', budget_tokens: 1024 });
    expect(translate({ messages: [{ role: 'user', content: 'x' }], reasoning_effort: 'low', max_tokens: 1000 })).not.toHaveProperty('thinking');
    expect(translate({ messages: [{ role: 'user', content: 'x' }], reasoning_effort: 'minimal' })).not.toHaveProperty('thinking');
  });

  it('does not think while continuing a tool call (Messages would want the signed thinking back)', () => {
    const request = translate({
      reasoning_effort: 'medium',
      messages: [
        { role: 'user', content: 'x' },
        { role: 'assistant', tool_calls: [{ id: 'c', type: 'function', function: { name: 't', arguments: '{}' } }] },
        { role: 'tool', tool_call_id: 'c', content: 'done' },
      ],
    });
    expect(request).not.toHaveProperty('thinking');
  });

  describe('refuses with a 400 naming the field', () => {
    it.each([
      [{ n: 2 }, 'n'],
      [{ response_format: { type: 'json_schema', json_schema: { name: 'x', schema: {} } } }, 'response_format'],
      [{ logprobs: true }, 'logprobs'],
      [{ messages: [{ role: 'user', content: [{ type: 'input_audio', input_audio: { data: 'x', format: 'wav' } }] }] }, 'messages[0].content[0].type'],
      [{ messages: [{ role: 'assistant', tool_calls: [{ id: 'c', type: 'function', function: { name: 't', arguments: '{oops' } }] }] }, 'messages[0].tool_calls[0].function.arguments'],
      [{ messages: [{ role: 'user', content: [{ type: 'image_url', image_url: { url: 'ftp://x/y.png' } }] }] }, 'messages[0].content[0].image_url.url'],
      [{ tools: [{ type: 'custom', custom: { name: 'x' } }] }, 'tools[0]'],
    ])('%j', (fields, param) => {
      const error = refusal({ messages: [{ role: 'user', content: 'x' }], ...fields });
      expect(error.status).toBe(400);
      expect(error.param).toBe(param);
    });
  });
});

const RESPONSE: Message = {
  id: 'msg_01Aq9w938a90dw8q',
  type: 'message',
  role: 'assistant',
  model: 'claude-sonnet-4-5-20250929',
  content: [
    { type: 'thinking', thinking: 'The user wants weather.', signature: 'sig' },
    { type: 'text', text: 'Let me check.', citations: null },
    { type: 'tool_use', id: 'toolu_01A09q90qw90lq917835lq9', name: 'get_weather', input: { location: 'San Francisco, CA' } },
  ],
  stop_reason: 'tool_use',
  stop_sequence: null,
  usage: { input_tokens: 472, output_tokens: 91, cache_read_input_tokens: 1000, cache_creation_input_tokens: 200 },
};

describe('toChatCompletion', () => {
  it('turns text, thinking and tool_use blocks into one assistant message', () => {
    expect(toChatCompletion(RESPONSE, 1_700_000_000)).toEqual({
      id: 'msg_01Aq9w938a90dw8q',
      object: 'chat.completion',
      created: 1_700_000_000,
      model: 'claude-sonnet-4-5-20250929',
      choices: [
        {
          index: 0,
          logprobs: null,
          finish_reason: 'tool_calls',
          message: {
            role: 'assistant',
            content: 'Let me check.',
            refusal: null,
            reasoning_content: 'The user wants weather.',
            tool_calls: [{ id: 'toolu_01A09q90qw90lq917835lq9', type: 'function', function: { name: 'get_weather', arguments: '{"location":"San Francisco, CA"}' } }],
          },
        },
      ],
      usage: {
        prompt_tokens: 1672,
        completion_tokens: 91,
        total_tokens: 1763,
        prompt_tokens_details: { cached_tokens: 1000 },
        cache_read_input_tokens: 1000,
        cache_creation_input_tokens: 200,
      },
    });
  });

  it.each([
    ['end_turn', 'stop'],
    ['stop_sequence', 'stop'],
    ['max_tokens', 'length'],
    ['tool_use', 'tool_calls'],
    ['refusal', 'content_filter'],
  ] as const)('maps stop_reason %s to finish_reason %s', (stopReason, finishReason) => {
    const completion = toChatCompletion({ ...RESPONSE, stop_reason: stopReason }, 0) as { choices: { finish_reason: string }[] };
    expect(completion.choices[0]!.finish_reason).toBe(finishReason);
  });

  it('gives an answer that reported no usage no usage, for the gateway to estimate rather than record zero', () => {
    const { usage: _reported, ...unreported } = RESPONSE;
    expect(toChatCompletion(unreported as typeof RESPONSE, 0)).not.toHaveProperty('usage');
    expect(toChatCompletion(RESPONSE, 0)).toHaveProperty('usage');
  });

  it('counts usage without cache fields as plain input', () => {
    expect(chatUsageOf({ input_tokens: 10, output_tokens: 5 })).toMatchObject({ prompt_tokens: 10, completion_tokens: 5, total_tokens: 15, prompt_tokens_details: { cached_tokens: 0 } });
  });
});
