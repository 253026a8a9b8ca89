import { describe, expect, it } from 'vitest';
import { AnthropicSseScanner, MESSAGE_STOP_EVENT, anthropicUsageOf } from './anthropic-sse-scanner.js';

/** A Messages stream as Anthropic sends it (its streaming documentation), with prompt-cache counts. */
const STREAM = [
  'event: message_start\ndata: {"type":"message_start","message":{"id":"msg_01","type":"message","role":"assistant","content":[],"model":"claude-sonnet-4-5","stop_reason":null,"stop_sequence":null,"usage":{"input_tokens":25,"cache_creation_input_tokens":1000,"cache_read_input_tokens":2000,"output_tokens":1}}}\n\n',
  'event: content_block_start\ndata: {"type":"content_block_start","index":0,"content_block":{"type":"text","text":""}}\n\n',
  'event: ping\ndata: {"type": "ping"}\n\n',
  'event: content_block_delta\ndata: {"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":"Hello"}}\n\n',
  'event: content_block_stop\ndata: {"type":"content_block_stop","index":0}\n\n',
  'event: message_delta\ndata: {"type":"message_delta","delta":{"stop_reason":"end_turn","stop_sequence":null},"usage":{"output_tokens":15}}\n\n',
  MESSAGE_STOP_EVENT,
].join('');

describe('AnthropicSseScanner', () => {
  it('forwards every event but message_stop, and reads the first token, the stop reason and the usage', () => {
    const scanner = new AnthropicSseScanner();
    let forwarded = '';
    for (let start = 0; start < STREAM.length; start += 13) forwarded += scanner.push(Buffer.from(STREAM.slice(start, start + 13)))?.toString() ?? '';
    expect(forwarded).toBe(STREAM.replace(MESSAGE_STOP_EVENT, ''));
    expect(scanner).toMatchObject({ firstTokenSeen: true, finishSeen: true, doneSeen: true, errorSeen: false, complete: true });
    expect(scanner.usage).toEqual({ promptTokens: 3025, completionTokens: 15, totalTokens: 3040, cacheReadTokens: 2000, cacheWriteTokens: 1000 });
  });

  it('keeps the 1-hour share of the cache writes, and counts a message_delta repeats over message_start, but not its nulls', () => {
    const scanner = new AnthropicSseScanner();
    const start = STREAM.split('\n\n')[0]!.replace('"output_tokens":1}', '"cache_creation":{"ephemeral_5m_input_tokens":400,"ephemeral_1h_input_tokens":600},"output_tokens":1}');
    scanner.push(Buffer.from(`${start}\n\n`));
    scanner.push(Buffer.from('event: message_delta\ndata: {"type":"message_delta","delta":{"stop_reason":"end_turn"},"usage":{"input_tokens":30,"cache_read_input_tokens":null,"output_tokens":7}}\n\n'));
    expect(scanner.usage).toEqual({ promptTokens: 3030, completionTokens: 7, totalTokens: 3037, cacheReadTokens: 2000, cacheWriteTokens: 1000, cacheWrite1hTokens: 600 });
  });

  it('sees no token before a delta with text, and an error event as an incomplete answer', () => {
    const scanner = new AnthropicSseScanner();
    scanner.push(Buffer.from(STREAM.split('event: content_block_delta')[0]!));
    expect(scanner.firstTokenSeen).toBe(false);
    scanner.push(Buffer.from('event: error\ndata: {"type":"error","error":{"type":"overloaded_error","message":"Overloaded"}}\n\n'));
    expect(scanner).toMatchObject({ errorSeen: true, complete: false });
  });

  it('counts a tool_use block as the first token', () => {
    const scanner = new AnthropicSseScanner();
    scanner.push(Buffer.from('event: content_block_start\ndata: {"type":"content_block_start","index":0,"content_block":{"type":"tool_use","id":"toolu_1","name":"f","input":{}}}\n\n'));
    expect(scanner.firstTokenSeen).toBe(true);
  });

  it('stops at a malformed event', () => {
    const scanner = new AnthropicSseScanner();
    expect(scanner.push(Buffer.from('event: content_block_delta\ndata: not json\n\n'))).toBeUndefined();
    expect(scanner.malformedSeen).toBe(true);
  });
});

describe('anthropicUsageOf', () => {
  it('counts cache reads and writes as prompt tokens', () => {
    expect(anthropicUsageOf({ usage: { input_tokens: 10, cache_read_input_tokens: 5, cache_creation_input_tokens: null, output_tokens: 3 } })).toEqual({ promptTokens: 15, completionTokens: 3, totalTokens: 18, cacheReadTokens: 5 });
    expect(anthropicUsageOf({})).toBeUndefined();
  });
});
