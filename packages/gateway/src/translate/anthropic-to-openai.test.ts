import { describe, expect, it } from 'vitest';
import { chatToMessage, messagesToChat, messagesUsageOf, stopReasonOf } from './anthropic-to-openai.js';
import type { MessageCreateParams } from './anthropic-types.js';

const PNG = 'iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg==';

/** A Claude Code-like turn: cached system blocks, a tool round trip, an image in a tool result, thinking of the last turn. */
const request: MessageCreateParams = {
  model: 'claude-sonnet-4-5',
  max_tokens: 1024,
  system: [
    { type: 'text', text: 'You are a coding agent.' },
    { type: 'text', text: 'Be concise.', cache_control: { type: 'ephemeral' } },
  ],
  messages: [
    { role: 'user', content: 'What is in the screenshot?' },
    {
      role: 'assistant',
      content: [
        { type: 'thinking', thinking: 'I should take a screenshot.', signature: 'EqQBCgIYAhIM' },
        { type: 'text', text: 'Taking one.' },
        { type: 'tool_use', id: 'toolu_01A', name: 'screenshot', input: { window: 'main' } },
      ],
    },
    {
      role: 'user',
      content: [
        { type: 'tool_result', tool_use_id: 'toolu_01A', content: [{ type: 'text', text: 'captured' }, { type: 'image', source: { type: 'base64', media_type: 'image/png', data: PNG } }] },
        { type: 'text', text: 'Describe it.' },
        { type: 'document', source: { type: 'base64', media_type: 'application/pdf', data: 'JVBERi0=' }, title: 'spec.pdf' },
      ],
    },
  ],
  tools: [
    { name: 'screenshot', description: 'Take a screenshot', input_schema: { type: 'object', properties: { window: { type: 'string' } } }, cache_control: { type: 'ephemeral' } },
    { name: 'web_search', type: 'web_search_20250305' } as never,
  ],
  tool_choice: { type: 'any', disable_parallel_tool_use: true },
  stop_sequences: ['</done>'],
  temperature: 0.2,
  top_p: 0.9,
  top_k: 40,
  metadata: { user_id: 'user-7' },
  thinking: { type: 'enabled', budget_tokens: 2048 },
  stream: true,
};

describe('messagesToChat', () => {
  const chat = messagesToChat(request);

  it('puts the system blocks first as one system message, without cache_control', () => {
    expect((chat.messages as unknown[])[0]).toEqual({ role: 'system', content: 'You are a coding agent.\nBe concise.' });
  });

  it('turns tool_use blocks into tool calls and tool_result blocks into tool messages placed before the user text', () => {
    const messages = chat.messages as Record<string, unknown>[];
    expect(messages[2]).toEqual({
      role: 'assistant',
      content: 'Taking one.',
      tool_calls: [{ id: 'toolu_01A', type: 'function', function: { name: 'screenshot', arguments: '{"window":"main"}' } }],
    });
    expect(messages[3]).toEqual({ role: 'tool', tool_call_id: 'toolu_01A', content: 'captured' });
    expect(messages[4]).toEqual({
      role: 'user',
      content: [
        { type: 'image_url', image_url: { url: `data:image/png;base64,${PNG}` } },
        { type: 'text', text: 'Describe it.' },
        { type: 'file', file: { filename: 'spec.pdf', file_data: 'data:application/pdf;base64,JVBERi0=' } },
      ],
    });
    expect(messages).toHaveLength(5);
  });

  it('maps the generation settings, drops what Chat cannot say (top_k, thinking, server tools)', () => {
    expect(chat).toMatchObject({
      model: 'claude-sonnet-4-5',
      max_tokens: 1024,
      stream: true,
      stop: ['</done>'],
      temperature: 0.2,
      top_p: 0.9,
      user: 'user-7',
      tool_choice: 'required',
      parallel_tool_calls: false,
      tools: [{ type: 'function', function: { name: 'screenshot', description: 'Take a screenshot', parameters: { type: 'object', properties: { window: { type: 'string' } } } } }],
    });
    expect(chat).not.toHaveProperty('top_k');
    expect(chat).not.toHaveProperty('thinking');
  });

  it('marks an error result and names a forced tool', () => {
    const forced = messagesToChat({
      model: 'm',
      max_tokens: 5,
      messages: [{ role: 'user', content: [{ type: 'tool_result', tool_use_id: 't1', content: 'no such file', is_error: true }] }],
      tools: [{ name: 'read', input_schema: { type: 'object' } }],
      tool_choice: { type: 'tool', name: 'read' },
    });
    expect(forced.messages).toEqual([{ role: 'tool', tool_call_id: 't1', content: 'Error: no such file' }]);
    expect(forced.tool_choice).toEqual({ type: 'function', function: { name: 'read' } });
  });
});

/** As OpenAI answers a tool call with reasoning (a DeepSeek-style `reasoning_content`). */
const completion = {
  id: 'chatcmpl-BXr9',
  object: 'chat.completion',
  created: 1_764_979_200,
  model: 'gpt-4o-mini-2024-07-18',
  choices: [
    {
      index: 0,
      message: {
        role: 'assistant',
        content: 'Let me check.',
        reasoning_content: 'The user wants weather.',
        refusal: null,
        tool_calls: [{ id: 'call_Z1', type: 'function', function: { name: 'get_weather', arguments: '{"city":"Paris"}' } }],
      },
      logprobs: null,
      finish_reason: 'tool_calls',
    },
  ],
  usage: { prompt_tokens: 120, completion_tokens: 30, total_tokens: 150, prompt_tokens_details: { cached_tokens: 100 } },
};

describe('chatToMessage', () => {
  it('gives thinking, text and tool_use blocks, the stop reason and usage with cache reads apart', () => {
    expect(chatToMessage(completion, { model: 'asked', requestId: 'r1' })).toEqual({
      id: 'msg_BXr9',
      type: 'message',
      role: 'assistant',
      model: 'gpt-4o-mini-2024-07-18',
      content: [
        { type: 'thinking', thinking: 'The user wants weather.', signature: '' },
        { type: 'text', text: 'Let me check.', citations: null },
        { type: 'tool_use', id: 'call_Z1', name: 'get_weather', input: { city: 'Paris' } },
      ],
      stop_reason: 'tool_use',
      stop_sequence: null,
      usage: { input_tokens: 20, output_tokens: 30, cache_creation_input_tokens: 0, cache_read_input_tokens: 100 },
    });
  });

  it('maps every finish reason', () => {
    expect(['stop', 'length', 'tool_calls', 'function_call', 'content_filter', null].map(stopReasonOf)).toEqual(['end_turn', 'max_tokens', 'tool_use', 'tool_use', 'refusal', null]);
  });

  it('reads absent or nonsense usage as zeros', () => {
    expect(messagesUsageOf({ prompt_tokens: -3, completion_tokens: 'x' })).toEqual({ input_tokens: 0, output_tokens: 0, cache_creation_input_tokens: 0, cache_read_input_tokens: 0 });
  });
});
