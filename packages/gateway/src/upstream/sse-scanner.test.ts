import { describe, expect, it } from 'vitest';
import { SseScanner, usageFromResponse } from './sse-scanner.js';

const chunk = (content: string, finish: string | null = null): string =>
  `data: {"id":"c1","object":"chat.completion.chunk","choices":[{"index":0,"delta":{"content":${JSON.stringify(content)}},"finish_reason":${finish === null ? 'null' : `"${finish}"`}}]}\n\n`;
const roleChunk = 'data: {"id":"c1","choices":[{"index":0,"delta":{"role":"assistant","content":""},"finish_reason":null}]}\n\n';
const usageChunk = 'data: {"id":"c1","choices":[],"usage":{"prompt_tokens":9,"completion_tokens":2,"total_tokens":11}}\n\n';
const done = 'data: [DONE]\n\n';
/** What the scanner forwards for `bytes`, as text ('' for nothing). */
const forward = (scanner: SseScanner, bytes: string | Buffer): string => scanner.push(typeof bytes === 'string' ? Buffer.from(bytes) : bytes)?.toString('utf8') ?? '';

describe('SseScanner', () => {
  it('forwards only complete events, holding back a partial one', () => {
    const scanner = new SseScanner(false);
    const whole = roleChunk + chunk('Hel');
    const cut = whole.length - 10;
    expect(forward(scanner, whole.slice(0, cut))).toBe(roleChunk);
    expect(forward(scanner, whole.slice(cut))).toBe(chunk('Hel'));
  });

  it('keeps a multi-byte character split across chunks intact', () => {
    const scanner = new SseScanner(false);
    const bytes = Buffer.from(chunk('héllo'));
    const split = bytes.indexOf(0xa9); // second byte of "é"
    const out = forward(scanner, bytes.subarray(0, split)) + forward(scanner, bytes.subarray(split));
    expect(out).toBe(chunk('héllo'));
  });

  it('notes the first token, not the empty role chunk', () => {
    const scanner = new SseScanner(false);
    scanner.push(Buffer.from(roleChunk));
    expect(scanner.firstTokenSeen).toBe(false);
    scanner.push(Buffer.from(chunk('Hi')));
    expect(scanner.firstTokenSeen).toBe(true);
  });

  it('reads JSON written with spaces, as Python servers send it', () => {
    const scanner = new SseScanner(false);
    scanner.push(Buffer.from('data: {"choices": [{"index": 0, "delta": {"content": "Hi"}, "finish_reason": "stop"}]}\n\n'));
    expect(scanner.firstTokenSeen).toBe(true);
    expect(scanner.finishSeen).toBe(true);
    expect(scanner.malformedSeen).toBe(false);
  });

  it('counts a refusal as the first token, and notes a content filter on any choice', () => {
    const scanner = new SseScanner(false);
    scanner.push(Buffer.from('data: {"choices":[{"index":0,"delta":{"refusal":"I can’t help with that."}}]}\n\n'));
    expect(scanner.firstTokenSeen).toBe(true);
    scanner.push(Buffer.from('data: {"choices":[{"index":0,"finish_reason":"stop"},{"index":1,"finish_reason":"content_filter"}]}\n\n'));
    expect(scanner.contentFilterSeen).toBe(true);
  });

  it('reads only the data lines of an event, and passes empty data through', () => {
    const scanner = new SseScanner(false);
    const withId = 'data: {"choices":[{"index":0,"delta":{"content":"Hi"}}]}\nid: 1\n\n';
    expect(forward(scanner, `data:\n\n${withId}`)).toBe(`data:\n\n${withId}`);
    expect(scanner.firstTokenSeen).toBe(true);
    expect(scanner.malformedSeen).toBe(false);
  });

  it('stops forwarding at an event that is not JSON', () => {
    const scanner = new SseScanner(false);
    expect(forward(scanner, `${chunk('Hi')}data: {not json\n\n${chunk('there')}`)).toBe(chunk('Hi'));
    expect(scanner.malformedSeen).toBe(true);
  });

  it('counts a tool call delta as the first token', () => {
    const scanner = new SseScanner(false);
    scanner.push(Buffer.from('data: {"choices":[{"index":0,"delta":{"tool_calls":[{"index":0,"id":"call_1"}]}}]}\n\n'));
    expect(scanner.firstTokenSeen).toBe(true);
  });

  it('reads usage and drops the usage-only chunk when the gateway asked for it', () => {
    const scanner = new SseScanner(true);
    const out = forward(scanner, chunk('Hi', 'stop') + usageChunk + done);
    expect(out).toBe(chunk('Hi', 'stop') + done);
    expect(scanner.usage).toEqual({ promptTokens: 9, completionTokens: 2, totalTokens: 11 });
    expect(scanner.complete).toBe(true);
  });

  it('keeps the usage chunk when the client asked for it', () => {
    const scanner = new SseScanner(false);
    expect(forward(scanner, usageChunk)).toBe(usageChunk);
    expect(scanner.usage?.totalTokens).toBe(11);
  });

  describe('when the backend spaces or pretty-prints its JSON', () => {
    const spacedUsage = 'data: {"id": "c1", "choices": [], "usage": {"prompt_tokens": 9, "completion_tokens": 2, "total_tokens": 11}}\n\n';
    /** One event as several data lines, as a backend that pretty-prints sends it (SSE joins them with "\n"). */
    const multiLine = (value: unknown): string => `${JSON.stringify(value, null, 2).split('\n').map((line) => `data: ${line}`).join('\n')}\n\n`;

    it('reads usage written with spaces and drops the usage-only chunk the gateway asked for', () => {
      const scanner = new SseScanner(true);
      expect(forward(scanner, chunk('Hi', 'stop') + spacedUsage + done)).toBe(chunk('Hi', 'stop') + done);
      expect(scanner.usage).toEqual({ promptTokens: 9, completionTokens: 2, totalTokens: 11 });
    });

    it('reads usage whatever the key order', () => {
      const scanner = new SseScanner(false);
      scanner.push(Buffer.from('data: {"usage" :{"completion_tokens":2,"prompt_tokens":9},"choices":[],"id":"c1"}\n\n'));
      expect(scanner.usage).toEqual({ promptTokens: 9, completionTokens: 2, totalTokens: 11 });
    });

    it('reads a multi-line event: token, tool call, finish reason, usage and error', () => {
      const scanner = new SseScanner(true);
      const toolCall = multiLine({ choices: [{ index: 0, delta: { tool_calls: [{ index: 0, id: 'call_1' }] }, finish_reason: null }] });
      const finish = multiLine({ choices: [{ index: 0, delta: {}, finish_reason: 'content_filter' }], usage: null });
      const usage = multiLine({ id: 'c1', choices: [], usage: { prompt_tokens: 9, completion_tokens: 2, total_tokens: 11 } });
      expect(forward(scanner, toolCall + finish + usage)).toBe(toolCall + finish);
      expect(scanner).toMatchObject({ firstTokenSeen: true, finishSeen: true, contentFilterSeen: true, malformedSeen: false });
      expect(scanner.usage?.totalTokens).toBe(11);
      scanner.push(Buffer.from(multiLine({ error: { message: 'overloaded', type: 'server_error' } })));
      expect(scanner.errorSeen).toBe(true);
    });

    it('notes an error event whatever its key order or value shape', () => {
      const objectError = new SseScanner(false);
      objectError.push(Buffer.from('data: {"id": "c1", "error": {"message": "overloaded"}}\n\n'));
      expect(objectError.errorSeen).toBe(true);
      const stringError = new SseScanner(false);
      stringError.push(Buffer.from('data: {"error": "Input validation error", "error_type": "validation"}\n\n'));
      expect(stringError.errorSeen).toBe(true);
    });

    it('does not take answer text about usage or errors, or a nested usage, for the real thing', () => {
      const scanner = new SseScanner(true);
      const text = chunk('"usage": {"prompt_tokens": 1}, "error": {"message": "x"}');
      const word = chunk('usage');
      const nested = 'data: {"choices": [], "x_vendor": {"usage": {"prompt_tokens": 5, "completion_tokens": 5}}}\n\n';
      expect(forward(scanner, text + word + nested)).toBe(text + word + nested);
      expect(scanner.usage).toBeUndefined();
      expect(scanner.errorSeen).toBe(false);
    });
  });

  it('is complete after a finish reason even without [DONE]', () => {
    const scanner = new SseScanner(false);
    scanner.push(Buffer.from(chunk('Hi') + chunk('', 'stop')));
    expect(scanner.complete).toBe(true);
    expect(scanner.doneSeen).toBe(false);
  });

  it('is not complete when the stream stops mid-answer', () => {
    const scanner = new SseScanner(false);
    scanner.push(Buffer.from(roleChunk + chunk('Hi')));
    expect(scanner.complete).toBe(false);
  });

  it('notices an error event from the backend', () => {
    const scanner = new SseScanner(false);
    scanner.push(Buffer.from('data: {"error":{"message":"overloaded","type":"server_error"}}\n\n'));
    expect(scanner.errorSeen).toBe(true);
    expect(scanner.complete).toBe(false);
  });

  it('accepts CRLF line endings and passes comment lines through as the backend wrote them', () => {
    const scanner = new SseScanner(false);
    const out = forward(scanner, ': keep-alive\r\n\r\ndata: [DONE]\r\n\r\n');
    expect(out).toBe(': keep-alive\r\n\r\ndata: [DONE]\r\n\r\n');
    expect(scanner.doneSeen).toBe(true);
  });
});

describe('SseScanner on the bytes, after the first token', () => {
  it('forwards the very chunk it was given when the chunk ends at an event boundary', () => {
    const scanner = new SseScanner(false);
    forward(scanner, chunk('Hi'));
    const bytes = Buffer.from(chunk(' there'));
    expect(scanner.push(bytes)).toBe(bytes);
    expect(scanner.forwardedBytes).toBe(Buffer.byteLength(chunk('Hi') + chunk(' there')));
  });

  it('reads a finish reason, a content filter on another choice, spaced usage and an error from the bytes', () => {
    const scanner = new SseScanner(true);
    forward(scanner, chunk('Hi'));
    expect(scanner.finishSeen).toBe(false); // "finish_reason":null
    forward(scanner, 'data: {"choices": [{"index": 0, "finish_reason": "stop"}, {"index": 1, "finish_reason" : "content_filter"}], "usage": null}\n\n');
    expect(scanner).toMatchObject({ finishSeen: true, contentFilterSeen: true, usage: undefined });
    expect(forward(scanner, 'data: {"id": "c1", "choices": [], "usage": {"prompt_tokens": 9, "completion_tokens": 2}}\n\n')).toBe('');
    expect(scanner.usage).toEqual({ promptTokens: 9, completionTokens: 2, totalTokens: 11 });
    forward(scanner, 'data: {"error": "Input validation error"}\n\n');
    expect(scanner.errorSeen).toBe(true);
  });

  it('cuts the usage-only chunk out of the middle of a chunk and holds [DONE], forwarding the rest as it came', () => {
    const scanner = new SseScanner(true, { holdDone: true });
    forward(scanner, chunk('Hi'));
    expect(forward(scanner, chunk('!') + usageChunk + ': keep-alive\n\n' + done)).toBe(chunk('!') + ': keep-alive\n\n');
    expect(scanner.doneSeen).toBe(true);
    expect(scanner.complete).toBe(true);
  });

  it('joins an event split across chunks, and forwards what came before a malformed event only', () => {
    const scanner = new SseScanner(false);
    forward(scanner, chunk('Hi'));
    const whole = chunk('a') + chunk('b');
    expect(forward(scanner, whole.slice(0, 70))).toBe('');
    expect(forward(scanner, whole.slice(70))).toBe(whole);
    expect(forward(scanner, `${chunk('c')}data: not json\n\n${chunk('d')}`)).toBe(chunk('c'));
    expect(scanner.malformedSeen).toBe(true);
  });

  it('reads CR and CRLF line endings, also when a CRLF is split across chunks, and forwards them as they came', () => {
    const scanner = new SseScanner(false);
    const crlf = chunk('Hi').replaceAll('\n', '\r\n');
    const cr = chunk('', 'stop').replaceAll('\n', '\r');
    // The blank line's CR in one chunk, its LF in the next: the event is whole at the CR.
    expect(forward(scanner, crlf.slice(0, -1))).toBe(crlf.slice(0, -1));
    expect(forward(scanner, crlf.slice(-1) + cr)).toBe(crlf.slice(-1) + cr);
    expect(scanner).toMatchObject({ firstTokenSeen: true, finishSeen: true, malformedSeen: false });
    expect(scanner.complete).toBe(true);
    expect(forward(scanner, cr.slice(0, -1))).toBe('');
    expect(forward(scanner, cr.slice(-1))).toBe(cr);
  });

  it('tells its observer the data of each JSON event forwarded: not [DONE], comments or the dropped usage chunk', () => {
    const told: string[] = [];
    const scanner = new SseScanner(true, { onEvent: (data) => told.push(data.toString('utf8')) });
    forward(scanner, roleChunk + chunk('Hi') + ': ping\n\n' + chunk('!', 'stop') + usageChunk + done);
    const dataOf = (event: string) => event.slice('data: '.length, -2);
    expect(told).toEqual([dataOf(roleChunk), dataOf(chunk('Hi')), dataOf(chunk('!', 'stop'))]);
  });
});

describe('usageFromResponse', () => {
  it('after the first token, reads a chunk of one event in one pass and anything else on the general path', () => {
    const seen: string[] = [];
    const scanner = new SseScanner(true, { holdDone: true, onEvent: (data) => seen.push(data.toString()) });
    forward(scanner, chunk('Hi'));
    // One plain event: the very chunk, told to the observer.
    const one = Buffer.from(chunk(' there'));
    expect(scanner.push(one)).toBe(one);
    // Two events in one chunk, a finish reason in the second: both read.
    expect(forward(scanner, chunk(' a') + chunk('', 'stop'))).toBe(chunk(' a') + chunk('', 'stop'));
    expect(scanner.finishSeen).toBe(true);
    // A comment line, CRLF endings, an event with an id field, the usage-only chunk, [DONE]: the general path.
    expect(forward(scanner, ': keep-alive\n\n')).toBe(': keep-alive\n\n');
    expect(forward(scanner, chunk(' b').replace(/\n/g, '\r\n'))).toBe(chunk(' b').replace(/\n/g, '\r\n'));
    expect(forward(scanner, `id: 7\n${chunk(' c')}`)).toBe(`id: 7\n${chunk(' c')}`);
    expect(forward(scanner, usageChunk)).toBe('');
    expect(scanner.usage?.totalTokens).toBe(11);
    expect(forward(scanner, done)).toBe('');
    expect(scanner.doneSeen).toBe(true);
    expect(seen).toHaveLength(6);
    expect(scanner.forwardedBytes).toBe(Buffer.byteLength(chunk('Hi') + chunk(' there') + chunk(' a') + chunk('', 'stop') + ': keep-alive\n\n' + chunk(' b').replace(/\n/g, '\r\n') + `id: 7\n${chunk(' c')}`));
  });

  it('believes only whole, finite, non-negative token counts', () => {
    expect(usageFromResponse({ usage: { prompt_tokens: 'Infinity', completion_tokens: -5 } })).toEqual({ promptTokens: 0, completionTokens: 0, totalTokens: 0 });
    expect(usageFromResponse({ usage: { prompt_tokens: 12.5, completion_tokens: 1e300 } })).toEqual({ promptTokens: 13, completionTokens: 100_000_000, totalTokens: 100_000_013 });
    expect(usageFromResponse({ usage: { prompt_tokens: '7', completion_tokens: 3 } })).toEqual({ promptTokens: 7, completionTokens: 3, totalTokens: 10 });
    expect(usageFromResponse({ choices: [] })).toBeUndefined();
  });
});
