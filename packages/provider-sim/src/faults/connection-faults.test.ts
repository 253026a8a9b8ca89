import OpenAI from 'openai';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { startSimulator } from '../simulator.js';
import type { Simulator } from '../types.js';

describe('faults that act on the connection or its timing', () => {
  let simulator: Simulator;
  let client: OpenAI;
  const request = { model: 'sim-a', messages: [{ role: 'user' as const, content: 'hello' }] };

  beforeAll(async () => {
    simulator = await startSimulator({ models: [{ id: 'sim-a', outputTokens: 4 }] });
    client = new OpenAI({ apiKey: 'test-key', baseURL: simulator.baseUrl, maxRetries: 0 });
  });

  afterEach(() => {
    simulator.reset();
  });

  afterAll(async () => {
    await simulator.close();
  });

  describe('when a reset fault is queued', () => {
    it('drops the connection without an answer, which the client reports as a connection error', async () => {
      simulator.injectFaults({ kind: 'reset' });

      const error: unknown = await client.chat.completions.create(request).catch((caught: unknown) => caught);

      expect(error).toBeInstanceOf(OpenAI.APIConnectionError);
      expect(simulator.stats.faults).toEqual({ reset: 1 });
      expect(simulator.stats.aborted).toBe(0);
    });
  });

  describe('when a hang fault is queued', () => {
    it('never answers, so the client times out, and counts the request as aborted', async () => {
      simulator.injectFaults({ kind: 'hang' });

      const error: unknown = await client.chat.completions.create(request, { timeout: 100 }).catch((caught: unknown) => caught);

      expect(error).toBeInstanceOf(OpenAI.APIConnectionTimeoutError);
      await vi.waitFor(() => expect(simulator.stats.aborted).toBe(1), { timeout: 10_000 });
    });

    it('lets close() finish by destroying the hung connection', async () => {
      const hanging = await startSimulator({ models: [{ id: 'sim-a' }] });
      hanging.injectFaults({ kind: 'hang' });
      const hangingClient = new OpenAI({ apiKey: 'test-key', baseURL: hanging.baseUrl, maxRetries: 0 });

      const pending = hangingClient.chat.completions.create(request).catch((caught: unknown) => caught);
      await vi.waitFor(() => expect(hanging.stats.requests).toBe(1), { timeout: 10_000 });
      await hanging.close();

      expect(await pending).toBeInstanceOf(OpenAI.APIConnectionError);
    });
  });

  describe('when a slow_first_token fault is queued', () => {
    it('delays a stream by delayMs before its first chunk', async () => {
      simulator.injectFaults({ kind: 'slow_first_token', delayMs: 120 });

      const startedAt = Date.now();
      const stream = await client.chat.completions.create({ ...request, stream: true });
      let firstChunkAfterMs = 0;
      for await (const chunk of stream) {
        if (firstChunkAfterMs === 0) {
          firstChunkAfterMs = Date.now() - startedAt;
          expect(chunk.choices[0]?.delta.role).toBe('assistant');
        }
      }

      expect(firstChunkAfterMs).toBeGreaterThanOrEqual(115);
    });

    it('delays a non-streamed answer by delayMs', async () => {
      simulator.injectFaults({ kind: 'slow_first_token', delayMs: 120 });

      const startedAt = Date.now();
      await client.chat.completions.create(request);

      expect(Date.now() - startedAt).toBeGreaterThanOrEqual(115);
    });
  });
});
