import { describe, expect, it } from 'vitest';
import { ChatStreamToMessages, messageAsEvents, plainContentLiteral } from './openai-stream-to-anthropic.js';
import { forEachEvent, parseSseEvent } from './sse-events.js';

/** A Chat Completions stream as OpenAI sends it: reasoning, text, a tool call in pieces, the finish, the usage chunk. */
const CHUNKS = [
  { choices: [{ index: 0, delta: { role: 'assistant', content: '', refusal: null }, logprobs: null, finish_reason: null }], usage: null },
  { choices: [{ index: 0, delta: { reasoning_content: 'Weather, so a tool.' }, finish_reason: null }], usage: null },
  { choices: [{ index: 0, delta: { content: 'Checking' }, finish_reason: null }], usage: null },
  { choices: [{ index: 0, delta: { content: ' now.' }, finish_reason: null }], usage: null },
  { choices: [{ index: 0, delta: { tool_calls: [{ index: 0, id: 'call_Q7', type: 'function', function: { name: 'get_weather', arguments: '' } }] }, finish_reason: null }], usage: null },
  { choices: [{ index: 0, delta: { tool_calls: [{ index: 0, function: { arguments: '{"city":' } }] }, finish_reason: null }], usage: null },
  { choices: [{ index: 0, delta: { tool_calls: [{ index: 0, function: { arguments: '"Oslo"}' } }] }, finish_reason: null }], usage: null },
  { choices: [{ index: 0, delta: {}, finish_reason: 'tool_calls' }], usage: null },
  { choices: [], usage: { prompt_tokens: 50, completion_tokens: 12, total_tokens: 62, prompt_tokens_details: { cached_tokens: 32 } } },
].map((chunk) => ({ id: 'chatcmpl-K1', object: 'chat.completion.chunk', created: 1_764_979_200, model: 'gpt-4o-mini', ...chunk }));

const STREAM = `${CHUNKS.map((chunk) => `data: ${JSON.stringify(chunk)}\n\n`).join('')}data: [DONE]\n\n`;

function events(text: string): { name: string | undefined; data: Record<string, unknown> }[] {
  const parsed: { name: string | undefined; data: Record<string, unknown> }[] = [];
  forEachEvent(text, (event) => {
    const { name, data } = parseSseEvent(event);
    parsed.push({ name, data: JSON.parse(data ?? 'null') as Record<string, unknown> });
  });
  return parsed;
}

const names = { model: 'asked', requestId: 'req1' };

describe('ChatStreamToMessages', () => {
  it('streams Anthropic events: message_start, a block per kind, deltas, the stop reason and usage, message_stop', () => {
    const out = events(new ChatStreamToMessages(names).push(STREAM));
    expect(out.map((event) => event.name)).toEqual([
      'message_start',
      'ping',
      'content_block_start',
      'content_block_delta',
      'content_block_stop',
      'content_block_start',
      'content_block_delta',
      'content_block_delta',
      'content_block_stop',
      'content_block_start',
      'content_block_delta',
      'content_block_delta',
      'content_block_stop',
      'message_delta',
      'message_stop',
    ]);
    for (const event of out) expect(event.data.type).toBe(event.name);
    expect(out[0]!.data.message).toMatchObject({ id: 'msg_K1', model: 'gpt-4o-mini', role: 'assistant', content: [] });
    expect(out[2]!.data).toEqual({ type: 'content_block_start', index: 0, content_block: { type: 'thinking', thinking: '', signature: '' } });
    expect(out[3]!.data).toEqual({ type: 'content_block_delta', index: 0, delta: { type: 'thinking_delta', thinking: 'Weather, so a tool.' } });
    expect(out[7]!.data).toEqual({ type: 'content_block_delta', index: 1, delta: { type: 'text_delta', text: ' now.' } });
    expect(out[9]!.data).toEqual({ type: 'content_block_start', index: 2, content_block: { type: 'tool_use', id: 'call_Q7', name: 'get_weather', input: {} } });
    expect(out.slice(10, 12).map((event) => (event.data.delta as { partial_json: string }).partial_json).join('')).toBe('{"city":"Oslo"}');
    expect(out[13]!.data).toEqual({
      type: 'message_delta',
      delta: { stop_reason: 'tool_use', stop_sequence: null },
      usage: { output_tokens: 12, input_tokens: 18, cache_creation_input_tokens: 0, cache_read_input_tokens: 32 },
    });
  });

  it('gives the same events whatever the cuts in the bytes, holding only an unfinished event', () => {
    const whole = new ChatStreamToMessages(names).push(STREAM);
    for (const size of [1, 7, 64]) {
      const translator = new ChatStreamToMessages(names);
      let out = '';
      for (let start = 0; start < STREAM.length; start += size) out += translator.push(STREAM.slice(start, start + size));
      expect(out).toBe(whole);
    }
  });

  it('gives the same events for chunks written as OpenAI writes them (copied) and spaced (parsed)', () => {
    const spaced = `${CHUNKS.map((chunk) => `data: ${JSON.stringify(chunk, null, 1).replace(/\n/g, ' ')}\n\n`).join('')}data: [DONE]\n\n`;
    expect(events(new ChatStreamToMessages(names).push(spaced))).toEqual(events(new ChatStreamToMessages(names).push(STREAM)));
    const escaped = `data: ${JSON.stringify(CHUNKS[2])}\n\ndata: {"choices":[{"index":0,"delta":{"content":"a \\"quote\\" \\\\ \\u00e9"},"finish_reason":null}]}\n\n`;
    expect(events(new ChatStreamToMessages(names).push(escaped)).at(-1)!.data).toEqual({ type: 'content_block_delta', index: 0, delta: { type: 'text_delta', text: 'a "quote" \\ é' } });
  });

  it('copies only a plain content delta', () => {
    expect(plainContentLiteral('{"choices":[{"index":0,"delta":{"content":"hi"},"finish_reason":null}],"usage":null}')).toBe('"hi"');
    expect(plainContentLiteral('{"choices":[{"index":0,"delta":{"content":"hi"},"finish_reason":"stop"}]}')).toBeUndefined();
    expect(plainContentLiteral('{"choices":[{"index":0,"delta":{"content":"hi","tool_calls":[]}}]}')).toBeUndefined();
    expect(plainContentLiteral('{"choices":[{"index":0,"delta":{"content":"hi"}}],"usage":{"prompt_tokens":1}}')).toBeUndefined();
  });

  it('turns an error chunk after the first event into an error event, and sends nothing after it', () => {
    const translator = new ChatStreamToMessages(names);
    const out = events(
      translator.push(`data: ${JSON.stringify(CHUNKS[2])}\n\ndata: {"error":{"message":"The backend ended the stream early.","type":"server_error","code":"upstream_stream_interrupted"}}\n\ndata: ${JSON.stringify(CHUNKS[3])}\n\n`),
    );
    expect(out.map((event) => event.name)).toEqual(['message_start', 'ping', 'content_block_start', 'content_block_delta', 'error']);
    expect(out[4]!.data).toEqual({ type: 'error', error: { type: 'api_error', message: 'The backend ended the stream early.' } });
    expect(translator.done).toBe(true);
    expect(translator.finish()).toBe('');
  });

  it('ends an answer without a finish reason or usage as end_turn with zero usage', () => {
    const out = events(new ChatStreamToMessages(names).push(`data: ${JSON.stringify(CHUNKS[2])}\n\ndata: [DONE]\n\n`));
    expect(out.at(-2)!.data).toMatchObject({ type: 'message_delta', delta: { stop_reason: 'end_turn' }, usage: { output_tokens: 0 } });
  });
});

describe('messageAsEvents', () => {
  it('streams a whole Message as one delta per block, which the events of a stream add up to', () => {
    const message = {
      id: 'msg_1',
      type: 'message' as const,
      role: 'assistant' as const,
      model: 'm',
      content: [
        { type: 'text' as const, text: 'Calling.', citations: null },
        { type: 'tool_use' as const, id: 'call_1', name: 'f', input: { a: 1 } },
      ],
      stop_reason: 'tool_use' as const,
      stop_sequence: null,
      usage: { input_tokens: 5, output_tokens: 7, cache_creation_input_tokens: 0, cache_read_input_tokens: 0 },
    };
    const out = events(messageAsEvents(message));
    expect(out.map((event) => event.name)).toEqual([
      'message_start',
      'content_block_start',
      'content_block_delta',
      'content_block_stop',
      'content_block_start',
      'content_block_delta',
      'content_block_stop',
      'message_delta',
      'message_stop',
    ]);
    expect(out[5]!.data).toEqual({ type: 'content_block_delta', index: 1, delta: { type: 'input_json_delta', partial_json: '{"a":1}' } });
    expect(out[7]!.data).toMatchObject({ delta: { stop_reason: 'tool_use' }, usage: { output_tokens: 7, input_tokens: 5 } });
  });
});
