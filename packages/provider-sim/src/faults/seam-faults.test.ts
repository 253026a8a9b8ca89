import OpenAI from 'openai';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { postAndReadEvents } from '../test-support/read-event-stream.js';
import { startSimulator } from '../simulator.js';
import type { Simulator } from '../types.js';

const messages = [{ role: 'user', content: 'tell me a story' }];
const streamRequest = { model: 'sim-a', stream: true, messages };

/** The content deltas of the chat chunks among `events`, in order. */
function contentDeltas(events: readonly string[]): string[] {
  return events
    .filter((event) => event.startsWith('{"id"'))
    .map((event) => (JSON.parse(event) as { choices: Array<{ delta: { content?: string | null } }> }).choices[0]?.delta.content ?? '')
    .filter((content) => content !== '');
}

describe('faults placed at a given token, and prefills', () => {
  let simulator: Simulator;
  let client: OpenAI;
  let url: string;
  let canonical: string[];

  beforeAll(async () => {
    simulator = await startSimulator({ models: [{ id: 'sim-a', outputTokens: 12 }, { id: 'sim-strict', outputTokens: 12, rejectsPrefill: true }] });
    client = new OpenAI({ apiKey: 'test-key', baseURL: simulator.baseUrl, maxRetries: 0 });
    url = `${simulator.baseUrl}/chat/completions`;
    canonical = contentDeltas((await postAndReadEvents(url, streamRequest)).events);
  });

  afterEach(() => {
    simulator.reset();
  });

  afterAll(async () => {
    await simulator.close();
  });

  describe('when a stream_cut fault gives afterTokens', () => {
    it('sends the role chunk and exactly that many tokens, then drops the connection', async () => {
      simulator.injectFaults({ kind: 'stream_cut', afterTokens: 5 });

      const result = await postAndReadEvents(url, streamRequest);

      expect(result.ending).toBe('broken');
      expect(result.events).toHaveLength(6);
      expect(contentDeltas(result.events)).toEqual(canonical.slice(0, 5));
    });
  });

  describe('when a stream_stall fault gives afterTokens', () => {
    it('sends that many tokens, then stays silent with the connection open', async () => {
      simulator.injectFaults({ kind: 'stream_stall', afterTokens: 7 });

      const result = await postAndReadEvents(url, streamRequest, { idleTimeoutMs: 500 });

      expect(result.ending).toBe('idle');
      expect(contentDeltas(result.events)).toEqual(canonical.slice(0, 7));
    });
  });

  describe('when a malformed_chunk fault gives afterTokens', () => {
    it('slips the broken event in right after that token and streams the rest', async () => {
      simulator.injectFaults({ kind: 'malformed_chunk', afterTokens: 3 });

      const result = await postAndReadEvents(url, streamRequest);

      expect(result.events[4]).toBe('{not json');
      expect(result.events.at(-1)).toBe('[DONE]');
      expect(contentDeltas(result.events)).toEqual(canonical);
    });
  });

  describe('when a fault is queued with count 1', () => {
    it('fails only the first attempt: a 500, then the answer', async () => {
      simulator.injectFaults({ kind: 'server_error', count: 1 });

      const first = await postAndReadEvents(url, streamRequest);
      const second = await postAndReadEvents(url, streamRequest);

      expect(first.status).toBe(500);
      expect(contentDeltas(second.events)).toEqual(canonical);
    });

    it('gives the first attempt a retry-after, the next the answer', async () => {
      simulator.injectFaults({ kind: 'rate_limit', count: 1, retryAfterSeconds: 1 });

      const first = await postAndReadEvents(url, streamRequest);
      const second = await postAndReadEvents(url, streamRequest);

      expect(first.status).toBe(429);
      expect(first.headers.get('retry-after')).toBe('1');
      expect(second.status).toBe(200);
    });
  });

  describe('when the last message is an assistant prefill', () => {
    it('continues a prefill taken from the start of the answer with exactly the rest of it', async () => {
      const prefill = canonical.slice(0, 4).join('');

      const result = await postAndReadEvents(url, { ...streamRequest, messages: [...messages, { role: 'assistant', content: prefill }] });

      expect(contentDeltas(result.events)).toEqual(canonical.slice(4));
      expect(result.events.at(-1)).toBe('[DONE]');
    });

    it('counts only the continuation as completion tokens', async () => {
      const prefill = canonical.slice(0, 4).join('');

      const completion = await client.chat.completions.create({ model: 'sim-a', messages: [...messages, { role: 'assistant', content: prefill }] } as never);

      expect((completion as OpenAI.Chat.ChatCompletion).choices[0]?.message.content).toBe(canonical.slice(4).join(''));
      expect((completion as OpenAI.Chat.ChatCompletion).usage?.completion_tokens).toBe(8);
    });

    it('continues any other prefill with other words', async () => {
      const result = await postAndReadEvents(url, { ...streamRequest, messages: [...messages, { role: 'assistant', content: 'Once upon' }] });

      const continuation = contentDeltas(result.events);
      expect(continuation.length).toBeGreaterThan(0);
      expect(continuation.join('')).not.toBe(canonical.slice(2).join(''));
    });

    it('is refused with a 400 by a model with rejectsPrefill', async () => {
      const result = await postAndReadEvents(url, { ...streamRequest, model: 'sim-strict', messages: [...messages, { role: 'assistant', content: 'Once' }] });

      expect(result.status).toBe(400);
      expect(simulator.stats.faults).toEqual({});
    });

    it('is answered normally by that model without the prefill', async () => {
      const result = await postAndReadEvents(url, { ...streamRequest, model: 'sim-strict' });

      expect(result.status).toBe(200);
    });
  });
});
