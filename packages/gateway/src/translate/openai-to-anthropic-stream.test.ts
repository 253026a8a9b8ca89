import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { AnthropicToChatStream } from './openai-to-anthropic-stream.js';

/** Recorded Messages streams: a forced tool call (from @ai-sdk/anthropic's fixtures), and thinking then text. */
const TOOL_STREAM = readFileSync(new URL('./fixtures/messages-tool-stream.txt', import.meta.url));
const THINKING_STREAM = readFileSync(new URL('./fixtures/messages-thinking-text-stream.txt', import.meta.url));

/** Feeds the bytes in pieces of `size` and returns the data of each chunk event (parsed, or the raw text). */
function run(bytes: Buffer, size: number, includeUsage = true): { events: unknown[]; comments: number; translator: AnthropicToChatStream } {
  const translator = new AnthropicToChatStream({ created: 1_700_000_000, includeUsage });
  let out = '';
  for (let start = 0; start < bytes.length; start += size) out += translator.push(bytes.subarray(start, start + size));
  const blocks = out.split('\n\n').filter((block) => block !== '');
  const events = blocks.filter((block) => block.startsWith('data: ')).map((block) => {
    const data = block.slice(6);
    return data === '[DONE]' ? data : (JSON.parse(data) as unknown);
  });
  return { events, comments: blocks.filter((block) => block.startsWith(':')).length, translator };
}

const deltas = (events: unknown[]) => events.flatMap((event) => ((event as { choices?: { delta: unknown }[] }).choices ?? []).map((choice) => choice.delta));

describe('AnthropicToChatStream', () => {
  it('turns a tool_use block into a tool call with its id, name and argument pieces, then finishes with tool_calls', () => {
    for (const size of [1, 7, 64, TOOL_STREAM.length]) {
      const { events, comments } = run(TOOL_STREAM, size);
      expect(deltas(events)).toEqual([
        { role: 'assistant', content: '' },
        { tool_calls: [{ index: 0, id: 'toolu_01KFbKqPYSuAKujiL6mTfzYA', type: 'function', function: { name: 'json', arguments: '' } }] },
        { tool_calls: [{ index: 0, function: { arguments: '{"elements": [{"location": "San Francisco", "temperature": 58, "condition": "sunny"}]' } }] },
        { tool_calls: [{ index: 0, function: { arguments: '}' } }] },
        {},
      ]);
      expect(comments).toBe(1);
      const finish = events[4] as Record<string, unknown>;
      expect(finish).toMatchObject({ id: 'msg_01K2JbSUMYhez5RHoK9ZCj9U', object: 'chat.completion.chunk', created: 1_700_000_000, model: 'claude-haiku-4-5-20251001' });
      expect((finish.choices as { finish_reason: string }[])[0]!.finish_reason).toBe('tool_calls');
      expect(events[5]).toMatchObject({ choices: [], usage: { prompt_tokens: 849, completion_tokens: 47, total_tokens: 896 } });
      expect(events[6]).toBe('[DONE]');
    }
  });

  it('streams thinking as reasoning_content and text as content, and counts cache reads and writes in the prompt', () => {
    const { events, translator } = run(THINKING_STREAM, 13);
    expect(deltas(events)).toEqual([
      { role: 'assistant', content: '' },
      { reasoning_content: 'Let me solve this step by step:\n\n1. 27 * 453' },
      { content: '27 * 453 = ' },
      { content: '12,231 "exactly"' },
      {},
    ]);
    expect(events.at(-2)).toMatchObject({
      usage: { prompt_tokens: 2160, completion_tokens: 15, prompt_tokens_details: { cached_tokens: 2048 }, cache_creation_input_tokens: 100 },
    });
    expect(translator).toMatchObject({ stopped: true, failed: false, stopReason: 'end_turn' });
    expect(translator.usage).toEqual({ input_tokens: 12, output_tokens: 15, cache_read_input_tokens: 2048, cache_creation_input_tokens: 100 });
  });

  it('copies a delta written as Anthropic writes it exactly as it translates one written otherwise', () => {
    const start = THINKING_STREAM.subarray(0, THINKING_STREAM.indexOf('event: content_block_start'));
    const tool = 'data: {"type":"content_block_start","index":1,"content_block":{"type":"tool_use","id":"toolu_1","name":"f","input":{}}}\n\n';
    const deltas = [
      '{"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":"a \\"quote\\", a \\\\ and \\u00e9\\n"}}',
      '{"type":"content_block_delta","index":0,"delta":{"type":"thinking_delta","thinking":"hmm \\"x\\""}}',
      '{"type":"content_block_delta","index":1,"delta":{"type":"input_json_delta","partial_json":"{\\"city\\": \\"Par"}}',
    ];
    const translated = (spelling: (data: string) => string) => {
      const translator = new AnthropicToChatStream({ created: 0, includeUsage: false });
      translator.push(Buffer.concat([start, Buffer.from(tool)]));
      return deltas.map((data) => translator.push(Buffer.from(`event: content_block_delta\ndata: ${spelling(data)}\n\n`)));
    };
    const chunks = (events: string[]) => events.map((event) => JSON.parse(event.slice(6)) as { choices: { delta: unknown }[] });
    // The literal keeps Anthropic's escapes (\u00e9 stays escaped): the same JSON values, not the same bytes.
    const literal = chunks(translated((data) => data));
    expect(literal).toEqual(chunks(translated((data) => data.replace('"index":', '"index": '))));
    expect(literal.map((chunk) => chunk.choices[0]!.delta)).toEqual([
      { content: 'a "quote", a \\ and é\n' },
      { reasoning_content: 'hmm "x"' },
      { tool_calls: [{ index: 0, function: { arguments: '{"city": "Par' } }] },
    ]);
  });

  it('leaves the usage chunk out unless asked', () => {
    const { events } = run(THINKING_STREAM, 4096, false);
    expect(events.some((event) => typeof event === 'object' && event !== null && 'usage' in event)).toBe(false);
    expect(events.at(-1)).toBe('[DONE]');
  });

  it('leaves the usage chunk out of a stream that reported no usage, even when asked', () => {
    const unreported = THINKING_STREAM.toString('utf8').replace(/,"usage":\{[^}]*\}/g, '');
    expect(unreported).not.toContain('"usage"');
    const { events } = run(Buffer.from(unreported), 4096);
    expect(events.some((event) => typeof event === 'object' && event !== null && 'usage' in event)).toBe(false);
    expect(events.at(-2)).toMatchObject({ choices: [{ finish_reason: 'stop' }] });
    expect(events.at(-1)).toBe('[DONE]');
  });

  it('reads CRLF line ends', () => {
    const { events } = run(Buffer.from(THINKING_STREAM.toString('utf8').replace(/\n/g, '\r\n')), 5);
    expect(deltas(events)).toHaveLength(5);
  });

  it('turns an error event into an OpenAI-shaped error event and stops', () => {
    const translator = new AnthropicToChatStream({ created: 0, includeUsage: false });
    const start = translator.push(THINKING_STREAM.subarray(0, THINKING_STREAM.indexOf('event: content_block_start')));
    expect(start).toContain('"role":"assistant"');
    const out = translator.push(Buffer.from('event: error\ndata: {"type":"error","error":{"type":"overloaded_error","message":"Overloaded"}}\n\n'));
    expect(out).toBe('data: {"error":{"message":"Overloaded","type":"server_error","param":null,"code":"upstream_overloaded"}}\n\n');
    expect(translator.failed).toBe(true);
    expect(translator.push(Buffer.from('event: message_stop\ndata: {"type":"message_stop"}\n\n'))).toBe('');
  });

  it('answers data that is not a Messages event with an error event', () => {
    const translator = new AnthropicToChatStream({ created: 0, includeUsage: false });
    expect(translator.push(Buffer.from('data: <html>\n\n'))).toContain('"code":"upstream_malformed_response"');
    const early = new AnthropicToChatStream({ created: 0, includeUsage: false });
    expect(early.push(Buffer.from('data: {"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":"hi"}}\n\n'))).toContain('"code":"upstream_malformed_response"');
  });

  it('keeps at most 4 MiB of an unfinished event: a stream without boundaries is answered with an error event', () => {
    const translator = new AnthropicToChatStream({ created: 0, includeUsage: false });
    const piece = Buffer.alloc(1024 * 1024, 'x');
    const out = [0, 1, 2, 3, 4].map(() => translator.push(piece));
    expect(out.slice(0, 4)).toEqual(['', '', '', '']);
    expect(out[4]).toContain('"code":"upstream_malformed_response"');
    expect(translator.failed).toBe(true);
  });

  it('does not finish a stream that ends without message_stop', () => {
    const cut = THINKING_STREAM.subarray(0, THINKING_STREAM.indexOf('event: message_stop'));
    const { events, translator } = run(cut, 50);
    expect(events).not.toContain('[DONE]');
    expect(translator.stopped).toBe(false);
  });
});
