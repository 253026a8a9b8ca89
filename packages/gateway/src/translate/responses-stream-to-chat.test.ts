import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { ResponsesToChatStream } from './responses-stream-to-chat.js';

/** A Responses stream as OpenAI sends one (written after its documented events): reasoning, text, a function call. */
const STREAM = readFileSync(new URL('./fixtures/responses-text-tool-stream.txt', import.meta.url));

/** Feeds the bytes in pieces of `size` and returns the data of each chunk event (parsed, or the raw text). */
function run(bytes: Buffer, size: number, includeUsage = true): unknown[] {
  const translator = new ResponsesToChatStream({ created: 1_700_000_000, includeUsage });
  let out = '';
  for (let start = 0; start < bytes.length; start += size) out += translator.push(bytes.subarray(start, start + size));
  return out
    .split('\n\n')
    .filter((block) => block.startsWith('data: '))
    .map((block) => (block.slice(6) === '[DONE]' ? '[DONE]' : (JSON.parse(block.slice(6)) as unknown)));
}

const deltas = (events: unknown[]) => events.flatMap((event) => ((event as { choices?: { delta: unknown }[] }).choices ?? []).map((choice) => choice.delta));

describe('ResponsesToChatStream', () => {
  it('turns text deltas into content and a function call into a tool call, then finishes with tool_calls and usage', () => {
    for (const size of [1, 9, 100, STREAM.length]) {
      const events = run(STREAM, size);
      expect(deltas(events)).toEqual([
        { role: 'assistant', content: '' },
        { content: 'Let me "check"' },
        { content: ' the weather.' },
        { tool_calls: [{ index: 0, id: 'call_abc', type: 'function', function: { name: 'get_weather', arguments: '' } }] },
        { tool_calls: [{ index: 0, function: { arguments: '{"city":' } }] },
        { tool_calls: [{ index: 0, function: { arguments: '"Paris"}' } }] },
        {},
      ]);
      expect(events[0]).toMatchObject({ id: 'resp_68a1', object: 'chat.completion.chunk', created: 1_700_000_000, model: 'gpt-5-mini-2025-08-07' });
      expect((events[6] as { choices: { finish_reason: string }[] }).choices[0]!.finish_reason).toBe('tool_calls');
      expect(events[7]).toMatchObject({
        choices: [],
        usage: { prompt_tokens: 310, completion_tokens: 84, total_tokens: 394, prompt_tokens_details: { cached_tokens: 256 }, completion_tokens_details: { reasoning_tokens: 64 } },
      });
      expect(events[8]).toBe('[DONE]');
    }
  });

  it('leaves the usage chunk out when it was not asked for', () => {
    const events = run(STREAM, STREAM.length, false);
    expect(events.some((event) => typeof event === 'object' && 'usage' in (event as object))).toBe(false);
    expect(events.at(-1)).toBe('[DONE]');
  });

  it('ends with an OpenAI-shaped error event on response.failed', () => {
    const failed = Buffer.from(
      `${STREAM.toString().split('\n\n').slice(0, 7).join('\n\n')}\n\nevent: response.failed\ndata: {"type":"response.failed","sequence_number":8,"response":{"id":"resp_68a1","status":"failed","error":{"code":"server_error","message":"The model failed."},"output":[]}}\n\n`,
    );
    const events = run(failed, 50);
    expect(events.at(-1)).toEqual({ error: { message: 'The model failed.', type: 'server_error', param: null, code: 'server_error' } });
  });

  it('calls a stream that does not start with response.created malformed', () => {
    const events = run(Buffer.from('event: response.output_text.delta\ndata: {"type":"response.output_text.delta","delta":"x"}\n\n'), 100);
    expect(events).toEqual([{ error: expect.objectContaining({ code: 'upstream_malformed_response' }) }]);
  });
});
