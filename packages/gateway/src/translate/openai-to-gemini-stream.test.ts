import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { GeminiToChatStream } from './openai-to-gemini-stream.js';

/**
 * Gemini streams written in the API's wire format (CRLF event ends, its spacing, its field order): thinking then text
 * with cached and thinking tokens in the last event's usage, and two parallel function calls in one event.
 */
const THINKING_STREAM = readFileSync(new URL('./fixtures/gemini-thinking-text-stream.txt', import.meta.url));
const CALLS_STREAM = readFileSync(new URL('./fixtures/gemini-parallel-calls-stream.txt', import.meta.url));
const NAMES = { id: 'chatcmpl-gateway', model: 'gemini-deployment', callIdPrefix: 'call_abc' };

/** Feeds the bytes in pieces of `size`, then ends the stream; returns each chunk event's data, parsed (or '[DONE]'). */
function run(bytes: Buffer | string, size: number, includeUsage = true): { events: unknown[]; translator: GeminiToChatStream } {
  const source = typeof bytes === 'string' ? Buffer.from(bytes) : bytes;
  const translator = new GeminiToChatStream({ created: 1_700_000_000, includeUsage, ...NAMES });
  let out = '';
  for (let start = 0; start < source.length; start += size) out += translator.push(source.subarray(start, start + size));
  out += translator.end();
  const events = out
    .split('\n\n')
    .filter((block) => block !== '')
    .map((block) => {
      expect(block.startsWith('data: ')).toBe(true);
      const data = block.slice(6);
      return data === '[DONE]' ? data : (JSON.parse(data) as unknown);
    });
  return { events, translator };
}

const deltas = (events: unknown[]) => events.flatMap((event) => ((event as { choices?: { delta: unknown }[] }).choices ?? []).map((choice) => choice.delta));
const finishes = (events: unknown[]) => events.flatMap((event) => ((event as { choices?: { finish_reason: unknown }[] }).choices ?? []).map((choice) => choice.finish_reason));

describe('GeminiToChatStream', () => {
  it('streams thoughts as reasoning_content and text as content, then the usage of the last event and [DONE]', () => {
    for (const size of [1, 7, 64, THINKING_STREAM.length]) {
      const { events } = run(THINKING_STREAM, size);
      expect(deltas(events)).toEqual([
        { role: 'assistant', content: '' },
        { reasoning_content: "**Counting the letters**\n\nThe word has three r's." },
        { content: 'There are **three** "r"s' },
        { content: ' in strawberry.' },
        {},
      ]);
      expect(finishes(events)).toEqual([null, null, null, null, 'stop']);
      expect(events[0]).toMatchObject({ id: 'chatcmpl-pwlUaeq8LPeJkdUPnNODyQM', object: 'chat.completion.chunk', created: 1_700_000_000, model: 'gemini-2.5-flash' });
      expect(events.at(-2)).toEqual({
        id: 'chatcmpl-pwlUaeq8LPeJkdUPnNODyQM',
        object: 'chat.completion.chunk',
        created: 1_700_000_000,
        model: 'gemini-2.5-flash',
        choices: [],
        usage: {
          prompt_tokens: 2057,
          completion_tokens: 322,
          total_tokens: 2379,
          prompt_tokens_details: { cached_tokens: 2048 },
          completion_tokens_details: { reasoning_tokens: 311 },
        },
      });
      expect(events.at(-1)).toBe('[DONE]');
    }
  });

  it('leaves the usage chunk out when it is not asked for', () => {
    const { events } = run(THINKING_STREAM, 50, false);
    expect(events.at(-1)).toBe('[DONE]');
    expect(events.some((event) => typeof event === 'object' && event !== null && 'usage' in event)).toBe(false);
  });

  it('turns parallel function calls into tool calls with ids made from the prefix, and finishes with tool_calls', () => {
    const { events } = run(CALLS_STREAM, 16);
    expect(deltas(events)).toEqual([
      { role: 'assistant', content: '' },
      { tool_calls: [{ index: 0, id: 'call_abc_0_0', type: 'function', function: { name: 'get_weather', arguments: '{"city":"Paris"}' } }] },
      { tool_calls: [{ index: 1, id: 'call_abc_0_1', type: 'function', function: { name: 'get_time', arguments: '{"zone":"Europe/Paris"}' } }] },
      {},
    ]);
    expect(finishes(events).at(-1)).toBe('tool_calls');
    expect(events.at(-2)).toMatchObject({ usage: { prompt_tokens: 73, completion_tokens: 30, total_tokens: 103 } });
  });

  it('keeps the candidates of candidateCount > 1 apart as choices, each with its finish reason', () => {
    const event = (candidates: unknown[]) => `data: ${JSON.stringify({ candidates })}\n\n`;
    const stream =
      event([{ content: { role: 'model', parts: [{ text: 'A' }] }, index: 0 }, { content: { role: 'model', parts: [{ text: 'B' }] }, index: 1 }]) +
      event([{ content: { role: 'model', parts: [{ text: '!' }] }, finishReason: 'STOP', index: 0 }, { content: { role: 'model', parts: [{ text: '?' }] }, finishReason: 'MAX_TOKENS', index: 1 }]);
    const { events } = run(stream, 9);
    const choices = events.flatMap((chunk) => ((chunk as { choices?: Record<string, unknown>[] }).choices ?? []));
    expect(choices.filter((choice) => choice.index === 1).map((choice) => [choice.delta, choice.finish_reason])).toEqual([
      [{ role: 'assistant', content: '' }, null],
      [{ content: 'B' }, null],
      [{ content: '?' }, null],
      [{}, 'length'],
    ]);
    expect(choices.filter((choice) => choice.index === 0).at(-1)).toMatchObject({ finish_reason: 'stop' });
    expect(events.at(-2)).toMatchObject({ id: 'chatcmpl-gateway', model: 'gemini-deployment', choices: [{ index: 1, finish_reason: 'length' }] });
    // Gemini reported no usageMetadata: no usage chunk, so that the gateway estimates rather than record zero tokens.
    expect(events.some((chunk) => typeof chunk === 'object' && chunk !== null && 'usage' in chunk)).toBe(false);
  });

  it('answers a blocked prompt with one choice finished by the content filter', () => {
    const { events } = run('data: {"promptFeedback": {"blockReason": "PROHIBITED_CONTENT"}, "usageMetadata": {"promptTokenCount": 8, "totalTokenCount": 8}}\r\n\r\n', 10);
    expect(deltas(events)).toEqual([{ role: 'assistant', content: '' }, {}]);
    expect(finishes(events)).toEqual([null, 'content_filter']);
    expect(events.at(-1)).toBe('[DONE]');
  });

  it('writes no [DONE] for a stream that ends before every candidate finished (the relay reports it interrupted)', () => {
    const cut = THINKING_STREAM.subarray(0, THINKING_STREAM.indexOf('finishReason') - 200);
    const { events, translator } = run(cut, 32);
    expect(events.includes('[DONE]')).toBe(false);
    expect(translator.failed).toBe(false);
  });

  it('turns an error object in the stream into an OpenAI-shaped error event and reads nothing after it', () => {
    const { events, translator } = run(
      'data: {"candidates": [{"content": {"parts": [{"text": "Hi"}],"role": "model"},"index": 0}]}\r\n\r\n' +
        'data: {"error": {"code": 503, "message": "The model is overloaded. Please try again later.", "status": "UNAVAILABLE"}}\r\n\r\n' +
        'data: {"candidates": [{"content": {"parts": [{"text": "more"}],"role": "model"},"finishReason": "STOP","index": 0}]}\r\n\r\n',
      20,
    );
    expect(events.at(-1)).toEqual({ error: { message: 'The model is overloaded. Please try again later.', type: 'server_error', param: null, code: 'upstream_overloaded' } });
    expect(deltas(events)).toEqual([{ role: 'assistant', content: '' }, { content: 'Hi' }]);
    expect(translator.failed).toBe(true);
  });

  it('fails on an event that is not JSON', () => {
    const { events, translator } = run('data: {not json\n\n', 4);
    expect(events).toEqual([{ error: { message: 'The backend sent a malformed Gemini stream event.', type: 'server_error', param: null, code: 'upstream_malformed_response' } }]);
    expect(translator.failed).toBe(true);
  });
});
