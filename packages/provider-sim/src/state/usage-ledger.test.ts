import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { postAndReadEvents, requestJson } from '../test-support/read-event-stream.js';
import { startSimulator } from '../simulator.js';
import type { Simulator } from '../types.js';
import { UsageLedger } from './usage-ledger.js';

describe('UsageLedger', () => {
  it('sums the answers of one request id and counts every answer in the totals', () => {
    const ledger = new UsageLedger();

    ledger.record('req-1', { prompt_tokens: 10, completion_tokens: 4 });
    ledger.record('req-1', { prompt_tokens: 10, completion_tokens: 6 });
    ledger.record('', { prompt_tokens: 3 });

    expect(ledger.snapshotTotals()).toEqual({ answers: 3, promptTokens: 23, completionTokens: 10, cacheReadTokens: 0, cacheWriteTokens: 0 });
    expect(ledger.snapshotByRequestId()).toEqual({
      'req-1': { answers: 2, promptTokens: 20, completionTokens: 10, cacheReadTokens: 0, cacheWriteTokens: 0 },
      '': { answers: 1, promptTokens: 3, completionTokens: 0, cacheReadTokens: 0, cacheWriteTokens: 0 },
    });
  });

  it('drops the request id answered least recently beyond its capacity, but keeps its usage in the totals', () => {
    const ledger = new UsageLedger(2);

    ledger.record('a', { prompt_tokens: 1, completion_tokens: 1 });
    ledger.record('b', { prompt_tokens: 2, completion_tokens: 2 });
    ledger.record('a', { prompt_tokens: 1, completion_tokens: 1 });
    ledger.record('c', { prompt_tokens: 3, completion_tokens: 3 });

    expect(Object.keys(ledger.snapshotByRequestId())).toEqual(['a', 'c']);
    expect(ledger.snapshotByRequestId()['a']).toEqual({ answers: 2, promptTokens: 2, completionTokens: 2, cacheReadTokens: 0, cacheWriteTokens: 0 });
    expect(ledger.snapshotTotals()).toEqual({ answers: 4, promptTokens: 7, completionTokens: 7, cacheReadTokens: 0, cacheWriteTokens: 0 });
  });

  it('keeps an id such as __proto__ as an ordinary key', () => {
    const ledger = new UsageLedger();

    ledger.record('__proto__', { prompt_tokens: 1, completion_tokens: 2 });

    expect(JSON.parse(JSON.stringify(ledger.snapshotByRequestId()))).toEqual(
      JSON.parse('{"__proto__":{"answers":1,"promptTokens":1,"completionTokens":2,"cacheReadTokens":0,"cacheWriteTokens":0}}'),
    );
  });

  it('hands out snapshots and forgets everything on clear', () => {
    const ledger = new UsageLedger();
    ledger.record('a', { prompt_tokens: 1, completion_tokens: 1 });
    const totals = ledger.snapshotTotals();
    totals.answers = 99;
    const requests = ledger.snapshotByRequestId();
    delete requests['a'];

    expect(ledger.snapshotTotals().answers).toBe(1);
    expect(ledger.snapshotByRequestId()).toHaveProperty('a');

    ledger.clear();

    expect(ledger.snapshotTotals()).toEqual({ answers: 0, promptTokens: 0, completionTokens: 0, cacheReadTokens: 0, cacheWriteTokens: 0 });
    expect(ledger.snapshotByRequestId()).toEqual({});
  });
});

interface UsageBody {
  usage?: { prompt_tokens: number; completion_tokens?: number };
}

/** The usage a streamed answer carried: the usage chunk just before [DONE]. */
function streamedUsage(events: readonly string[]): UsageBody['usage'] {
  const usageChunk = events.at(-2);
  return usageChunk === undefined ? undefined : (JSON.parse(usageChunk) as UsageBody).usage;
}

describe('the usage ledger of a running simulator', () => {
  let simulator: Simulator;
  let chatUrl: string;
  const chat = { model: 'sim-a', messages: [{ role: 'user', content: 'count my tokens, please' }] };
  const slowChat = { ...chat, model: 'sim-slow' };
  const withId = (requestId: string): { headers: Record<string, string> } => ({ headers: { 'x-request-id': requestId } });
  const includeUsage = { stream: true, stream_options: { include_usage: true } };

  beforeAll(async () => {
    simulator = await startSimulator({
      models: [{ id: 'sim-a', outputTokens: 7 }, { id: 'sim-slow', interTokenDelayMs: 20, outputTokens: 50 }],
    });
    chatUrl = `${simulator.baseUrl}/chat/completions`;
  });

  afterEach(() => {
    simulator.reset();
  });

  afterAll(async () => {
    await simulator.close();
  });

  it('sums the usage that two answers and a stream with include_usage carried', async () => {
    const first = await requestJson(chatUrl, { body: chat, ...withId('req-1') });
    const second = await requestJson(`${simulator.baseUrl}/completions`, {
      body: { model: 'sim-a', prompt: 'a longer prompt than the chat one', max_tokens: 3 },
      ...withId('req-2'),
    });
    const stream = await postAndReadEvents(chatUrl, { ...chat, n: 2, ...includeUsage }, withId('req-3'));

    const carried = [(first.body as UsageBody).usage, (second.body as UsageBody).usage, streamedUsage(stream.events)];
    // ceil(23 / 4) + 3 = 9 prompt tokens, 7 completion tokens per choice; ceil(33 / 4) = 9 prompt tokens, 3 completion.
    expect(carried).toEqual([
      { prompt_tokens: 9, completion_tokens: 7, total_tokens: 16 },
      { prompt_tokens: 9, completion_tokens: 3, total_tokens: 12 },
      { prompt_tokens: 9, completion_tokens: 14, total_tokens: 23 },
    ]);
    expect(simulator.stats.usage).toEqual({ answers: 3, promptTokens: 27, completionTokens: 24, cacheReadTokens: 0, cacheWriteTokens: 0 });
    expect(simulator.usageByRequestId()).toEqual({
      'req-1': { answers: 1, promptTokens: 9, completionTokens: 7, cacheReadTokens: 0, cacheWriteTokens: 0 },
      'req-2': { answers: 1, promptTokens: 9, completionTokens: 3, cacheReadTokens: 0, cacheWriteTokens: 0 },
      'req-3': { answers: 1, promptTokens: 9, completionTokens: 14, cacheReadTokens: 0, cacheWriteTokens: 0 },
    });
  });

  it('sums a request id answered twice, and keys requests without one by ""', async () => {
    await requestJson(chatUrl, { body: chat, ...withId('resent') });
    await requestJson(chatUrl, { body: chat, ...withId('resent') });
    await requestJson(chatUrl, { body: chat });

    expect(simulator.usageByRequestId()).toEqual({
      resent: { answers: 2, promptTokens: 18, completionTokens: 14, cacheReadTokens: 0, cacheWriteTokens: 0 },
      '': { answers: 1, promptTokens: 9, completionTokens: 7, cacheReadTokens: 0, cacheWriteTokens: 0 },
    });
    expect(simulator.stats.usage).toEqual({ answers: 3, promptTokens: 27, completionTokens: 21, cacheReadTokens: 0, cacheWriteTokens: 0 });
  });

  it('counts the prompt tokens of embeddings, and no completion tokens', async () => {
    const response = await requestJson(`${simulator.baseUrl}/embeddings`, { body: { model: 'sim-a', input: [[1, 2, 3, 4, 5]] } });

    expect((response.body as UsageBody).usage).toEqual({ prompt_tokens: 5, total_tokens: 5 });
    expect(simulator.stats.usage).toEqual({ answers: 1, promptTokens: 5, completionTokens: 0, cacheReadTokens: 0, cacheWriteTokens: 0 });
  });

  it('does not count a stream that sent no usage chunk', async () => {
    const stream = await postAndReadEvents(chatUrl, { ...chat, stream: true }, withId('no-usage'));

    expect(stream.events.at(-1)).toBe('[DONE]');
    expect(simulator.stats).toMatchObject({ completed: 1, usage: { answers: 0, promptTokens: 0, completionTokens: 0, cacheReadTokens: 0, cacheWriteTokens: 0 } });
    expect(simulator.usageByRequestId()).toEqual({});
  });

  it('does not count a stream whose client left before its usage chunk', async () => {
    const controller = new AbortController();
    const response = await fetch(chatUrl, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-request-id': 'left' },
      body: JSON.stringify({ ...slowChat, ...includeUsage }),
      signal: controller.signal,
    });
    const reader = response.body?.getReader();
    await reader?.read();
    controller.abort();

    await vi.waitFor(() => expect(simulator.stats.aborted).toBe(1), { timeout: 10_000 });
    expect(simulator.stats.usage).toEqual({ answers: 0, promptTokens: 0, completionTokens: 0, cacheReadTokens: 0, cacheWriteTokens: 0 });
    expect(simulator.usageByRequestId()).toEqual({});
  });

  it('does not count errors, nor answers broken by a fault', async () => {
    simulator.injectFaults({ kind: 'server_error' });
    simulator.injectFaults({ kind: 'malformed_chunk', count: 2 });
    simulator.injectFaults({ kind: 'stream_cut' });

    expect((await requestJson(chatUrl, { body: chat })).status).toBe(500);
    await fetch(chatUrl, { method: 'POST', body: JSON.stringify(chat) }).then((response) => response.text());
    await postAndReadEvents(chatUrl, { ...chat, ...includeUsage });
    await postAndReadEvents(chatUrl, { ...chat, ...includeUsage });
    await requestJson(`${simulator.baseUrl}/chat/completions`, { rawBody: '{"model":' });

    expect(simulator.stats).toMatchObject({ requests: 5, usage: { answers: 0, promptTokens: 0, completionTokens: 0, cacheReadTokens: 0, cacheWriteTokens: 0 } });
  });

  it('counts an answer that a slow_first_token fault only delayed: its client got the usage', async () => {
    simulator.injectFaults({ kind: 'slow_first_token', delayMs: 1 });

    const response = await requestJson(chatUrl, { body: chat, ...withId('late') });

    expect(response.status).toBe(200);
    expect(simulator.usageByRequestId()).toEqual({ late: { answers: 1, promptTokens: 9, completionTokens: 7, cacheReadTokens: 0, cacheWriteTokens: 0 } });
  });

  it('starts again from nothing after reset()', async () => {
    await requestJson(chatUrl, { body: chat, ...withId('before') });

    simulator.reset();

    expect(simulator.stats.usage).toEqual({ answers: 0, promptTokens: 0, completionTokens: 0, cacheReadTokens: 0, cacheWriteTokens: 0 });
    expect(simulator.usageByRequestId()).toEqual({});
  });
});
