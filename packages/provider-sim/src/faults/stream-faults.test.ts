import OpenAI from 'openai';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { postAndReadEvents } from '../test-support/read-event-stream.js';
import { startSimulator } from '../simulator.js';
import type { Simulator } from '../types.js';

const streamRequest = { model: 'sim-a', stream: true, messages: [{ role: 'user', content: 'tell me a story' }] };

/** The joined content of the chat chunks among `events`, skipping anything that is not chunk JSON. */
function joinedContent(events: readonly string[]): string {
  return events
    .filter((event) => event.startsWith('{"id"'))
    .map((event) => {
      const chunk = JSON.parse(event) as { choices: Array<{ delta: { content?: string | null } }> };
      return chunk.choices[0]?.delta.content ?? '';
    })
    .join('');
}

describe('faults that act on the answer body', () => {
  let simulator: Simulator;
  let client: OpenAI;
  let url: string;

  beforeAll(async () => {
    simulator = await startSimulator({ models: [{ id: 'sim-a', outputTokens: 20 }] });
    client = new OpenAI({ apiKey: 'test-key', baseURL: simulator.baseUrl, maxRetries: 0 });
    url = `${simulator.baseUrl}/chat/completions`;
  });

  afterEach(() => {
    simulator.reset();
  });

  afterAll(async () => {
    await simulator.close();
  });

  describe('when a stream_cut fault is queued', () => {
    it('sends about half the chunks of a stream, then drops the connection without [DONE]', async () => {
      simulator.injectFaults({ kind: 'stream_cut' });

      const result = await postAndReadEvents(url, streamRequest);

      expect(result.status).toBe(200);
      expect(result.ending).toBe('broken');
      expect(result.events).not.toContain('[DONE]');
      // 1 role chunk + 20 tokens + 1 finish chunk: the cut comes after 11 of those 22.
      expect(result.events).toHaveLength(11);
      expect(simulator.stats.faults).toEqual({ stream_cut: 1 });
    });

    it('drops a non-streamed answer partway through its body', async () => {
      simulator.injectFaults({ kind: 'stream_cut' });

      const response = await fetch(url, { method: 'POST', body: JSON.stringify({ ...streamRequest, stream: false }) });

      expect(response.status).toBe(200);
      await expect(response.text()).rejects.toThrow();
    });
  });

  describe('when a stream_stall fault is queued', () => {
    it('sends a few chunks, then stays silent with the connection open', async () => {
      simulator.injectFaults({ kind: 'stream_stall' });

      // Silent for a second: a busy machine's pause between the first chunks is far shorter.
      const result = await postAndReadEvents(url, streamRequest, { idleTimeoutMs: 1_000 });

      expect(result.ending).toBe('idle');
      expect(result.events).toHaveLength(3);
      expect(result.events).not.toContain('[DONE]');
    });

    it('counts the request as aborted once the client gives up', async () => {
      simulator.injectFaults({ kind: 'stream_stall' });

      await postAndReadEvents(url, streamRequest, { idleTimeoutMs: 50 });

      await vi.waitFor(() => expect(simulator.stats.aborted).toBe(1), { timeout: 10_000 });
      expect(simulator.stats.completed).toBe(0);
    });
  });

  describe('when a malformed_chunk fault is queued', () => {
    it('slips one event that is not JSON into the middle and otherwise streams normally', async () => {
      const clean = await postAndReadEvents(url, streamRequest);
      simulator.injectFaults({ kind: 'malformed_chunk' });

      const result = await postAndReadEvents(url, streamRequest);

      expect(result.ending).toBe('ended');
      expect(result.events).toHaveLength(clean.events.length + 1);
      const malformedAt = result.events.indexOf('{not json');
      expect(malformedAt).toBeGreaterThan(0);
      expect(malformedAt).toBeLessThan(result.events.length - 2);
      expect(result.events.at(-1)).toBe('[DONE]');
      expect(joinedContent(result.events)).toBe(joinedContent(clean.events));
    });

    it('makes the official client fail while reading the stream', async () => {
      simulator.injectFaults({ kind: 'malformed_chunk' });
      const consoleError = vi.spyOn(console, 'error').mockImplementation(() => undefined);
      try {
        const stream = await client.chat.completions.create({ ...streamRequest, stream: true, messages: [{ role: 'user', content: 'hi' }] });
        const reading = (async () => {
          for await (const chunk of stream) {
            expect(chunk.object).toBe('chat.completion.chunk');
          }
        })();

        await expect(reading).rejects.toThrow(SyntaxError);
      } finally {
        consoleError.mockRestore();
      }
    });

    it('answers a non-streamed request with a truncated JSON body', async () => {
      simulator.injectFaults({ kind: 'malformed_chunk' });

      const response = await fetch(url, { method: 'POST', body: JSON.stringify({ ...streamRequest, stream: false }) });
      const text = await response.text();

      expect(response.status).toBe(200);
      expect(() => JSON.parse(text) as unknown).toThrow(SyntaxError);
    });
  });

  describe('when an empty fault is queued', () => {
    it('answers 200 with empty content and no tool call, even when tools are given', async () => {
      simulator.injectFaults({ kind: 'empty' });

      const completion = await client.chat.completions.create({
        model: 'sim-a',
        messages: [{ role: 'user', content: 'hi' }],
        tools: [{ type: 'function', function: { name: 'lookup', parameters: { type: 'object', properties: {} } } }],
      });

      expect(completion.choices[0]?.message.content).toBe('');
      expect(completion.choices[0]?.message.tool_calls).toBeUndefined();
      expect(completion.choices[0]?.finish_reason).toBe('stop');
      expect(completion.usage?.completion_tokens).toBe(0);
    });

    it('streams only the role chunk and the finish chunk', async () => {
      simulator.injectFaults({ kind: 'empty' });

      const result = await postAndReadEvents(url, streamRequest);

      expect(result.events).toHaveLength(3);
      expect(joinedContent(result.events)).toBe('');
      expect(result.events.at(-1)).toBe('[DONE]');
    });
  });

  describe('when a stream_error fault is queued', () => {
    it('streams about half the chunks, then an OpenAI error event, and ends without [DONE]', async () => {
      simulator.injectFaults({ kind: 'stream_error' });

      const result = await postAndReadEvents(url, streamRequest);

      expect(result.ending).toBe('ended');
      expect(result.events).toHaveLength(11 + 1);
      expect(JSON.parse(result.events.at(-1) ?? '')).toEqual({
        error: { message: expect.any(String), type: 'server_error', param: null, code: null },
      });
      expect(result.events).not.toContain('[DONE]');
    });

    it('makes the openai SDK throw mid-stream', async () => {
      simulator.injectFaults({ kind: 'stream_error' });
      const stream = await client.chat.completions.create({ model: 'sim-a', stream: true, messages: [{ role: 'user', content: 'tell me a story' }] });
      await expect(
        (async () => {
          for await (const _chunk of stream) {
            // reads until the error event
          }
        })(),
      ).rejects.toThrow();
    });

    it('answers a non-streamed request with 529 overloaded_error', async () => {
      simulator.injectFaults({ kind: 'stream_error' });
      const response = await fetch(url, { method: 'POST', body: JSON.stringify({ ...streamRequest, stream: false }) });
      expect(response.status).toBe(529);
    });
  });
});
