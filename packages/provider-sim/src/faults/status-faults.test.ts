import OpenAI from 'openai';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { requestJson } from '../test-support/read-event-stream.js';
import { startSimulator } from '../simulator.js';
import type { Simulator } from '../types.js';

type ApiError = InstanceType<typeof OpenAI.APIError>;

describe('faults that answer with an HTTP error', () => {
  let simulator: Simulator;
  let client: OpenAI;
  const ask = (model = 'sim-a'): Promise<unknown> =>
    client.chat.completions
      .create({ model, messages: [{ role: 'user', content: 'hello' }] })
      .catch((error: unknown) => error);

  beforeAll(async () => {
    simulator = await startSimulator({
      models: [{ id: 'sim-a' }, { id: 'sim-b', retryAfterSeconds: 4 }, { id: 'sim-small', contextWindow: 20 }],
    });
    client = new OpenAI({ apiKey: 'test-key', baseURL: simulator.baseUrl, maxRetries: 0 });
  });

  afterEach(() => {
    simulator.reset();
  });

  afterAll(async () => {
    await simulator.close();
  });

  describe('when a 429 fault is queued', () => {
    it('answers 429 with retry-after and an OpenAI rate limit body', async () => {
      simulator.injectFaults({ kind: 'rate_limit' });

      const error = (await ask()) as ApiError;

      expect(error).toBeInstanceOf(OpenAI.RateLimitError);
      expect(error.status).toBe(429);
      expect(error.headers?.get('retry-after')).toBe('1');
      expect(error.headers?.get('retry-after-ms')).toBeNull();
      expect(error.error).toMatchObject({ type: 'requests', code: 'rate_limit_exceeded' });
    });

    it('also sends retry-after-ms when retryAfterMs is given', async () => {
      simulator.injectFaults({ kind: 'rate_limit', retryAfterMs: 1500 });

      const error = (await ask()) as ApiError;

      expect(error.headers?.get('retry-after-ms')).toBe('1500');
      expect(error.headers?.get('retry-after')).toBe('2');
    });

    it('uses the model retryAfterSeconds unless the fault overrides it', async () => {
      simulator.injectFaults({ kind: 'rate_limit', model: 'sim-b' });
      simulator.injectFaults({ kind: 'rate_limit', model: 'sim-b', retryAfterSeconds: 9 });

      expect(((await ask('sim-b')) as ApiError).headers?.get('retry-after')).toBe('4');
      expect(((await ask('sim-b')) as ApiError).headers?.get('retry-after')).toBe('9');
    });

    it('fails only the next count requests, then answers normally', async () => {
      simulator.injectFaults({ kind: 'rate_limit', count: 2 });

      expect(await ask()).toBeInstanceOf(OpenAI.RateLimitError);
      expect(await ask()).toBeInstanceOf(OpenAI.RateLimitError);
      expect(await ask()).toMatchObject({ object: 'chat.completion' });
      expect(simulator.stats.faults).toEqual({ rate_limit: 2 });
    });

    it('leaves requests for other models alone when the fault names a model', async () => {
      simulator.injectFaults({ kind: 'rate_limit', model: 'sim-b' });

      expect(await ask('sim-a')).toMatchObject({ object: 'chat.completion' });
      expect(await ask('sim-b')).toBeInstanceOf(OpenAI.RateLimitError);
    });
  });

  describe('when a server_error fault is queued', () => {
    it('answers 500 with type server_error', async () => {
      simulator.injectFaults({ kind: 'server_error' });

      const error = (await ask()) as ApiError;

      expect(error).toBeInstanceOf(OpenAI.InternalServerError);
      expect(error.status).toBe(500);
      expect(error.error).toMatchObject({ type: 'server_error' });
    });
  });

  describe('when an unavailable fault is queued', () => {
    it('answers 503 with retry-after', async () => {
      simulator.injectFaults({ kind: 'unavailable', retryAfterSeconds: 7 });

      const error = (await ask()) as ApiError;

      expect(error.status).toBe(503);
      expect(error.headers?.get('retry-after')).toBe('7');
    });
  });

  describe('when an overloaded fault is queued', () => {
    it('answers 529 with type overloaded_error', async () => {
      simulator.injectFaults({ kind: 'overloaded' });

      const error = (await ask()) as ApiError;

      expect(error.status).toBe(529);
      expect(error.error).toMatchObject({ type: 'overloaded_error' });
    });
  });

  describe('when a bad_request fault is queued', () => {
    it('answers 400 invalid_request_error', async () => {
      simulator.injectFaults({ kind: 'bad_request' });

      const error = (await ask()) as ApiError;

      expect(error).toBeInstanceOf(OpenAI.BadRequestError);
      expect(error.error).toMatchObject({ type: 'invalid_request_error' });
    });
  });

  describe('when a context_length fault is queued', () => {
    it('answers 400 context_length_exceeded on messages', async () => {
      simulator.injectFaults({ kind: 'context_length' });

      const error = (await ask()) as ApiError;

      expect(error.status).toBe(400);
      expect(error.error).toMatchObject({
        type: 'invalid_request_error',
        param: 'messages',
        code: 'context_length_exceeded',
        message: expect.stringContaining("This model's maximum context length is 128000 tokens"),
      });
    });
  });

  describe('when a content_policy fault is queued', () => {
    it('answers 400 content_policy_violation', async () => {
      simulator.injectFaults({ kind: 'content_policy' });

      const error = (await ask()) as ApiError;

      expect(error.status).toBe(400);
      expect(error.error).toMatchObject({
        type: 'invalid_request_error',
        code: 'content_policy_violation',
        message: expect.stringContaining('content policy'),
      });
    });
  });

  describe('when the prompt and max_tokens exceed the model context window', () => {
    it('answers 400 context_length_exceeded without any fault', async () => {
      const error = (await client.chat.completions
        .create({ model: 'sim-small', messages: [{ role: 'user', content: 'hello' }], max_tokens: 30 })
        .catch((caught: unknown) => caught)) as ApiError;

      expect(error.status).toBe(400);
      expect(error.code).toBe('context_length_exceeded');
      expect(simulator.stats.faults).toEqual({});
    });
  });

  describe('when a model has fault rates', () => {
    const statuses = async (target: Simulator, count: number): Promise<number[]> => {
      const results: number[] = [];
      for (let index = 0; index < count; index += 1) {
        const response = await requestJson(`${target.baseUrl}/chat/completions`, {
          body: { model: 'sim-flaky', messages: [{ role: 'user', content: 'hello' }] },
        });
        results.push(response.status);
      }
      return results;
    };

    it('fails every request at rate 1', async () => {
      const flaky = await startSimulator({ models: [{ id: 'sim-flaky', faultRates: { server_error: 1 } }] });
      try {
        expect(await statuses(flaky, 3)).toEqual([500, 500, 500]);
        expect(flaky.stats.faults).toEqual({ server_error: 3 });
      } finally {
        await flaky.close();
      }
    });

    it('draws the same faults in the same order from the same seed', async () => {
      const options = { seed: 42, models: [{ id: 'sim-flaky', faultRates: { rate_limit: 0.3, server_error: 0.2 } }] };
      const first = await startSimulator(options);
      const second = await startSimulator(options);
      try {
        const firstRun = await statuses(first, 30);
        first.reset();
        const afterReset = await statuses(first, 30);
        const secondRun = await statuses(second, 30);

        expect(new Set(firstRun)).toEqual(new Set([200, 429, 500]));
        expect(secondRun).toEqual(firstRun);
        expect(afterReset).toEqual(firstRun);
      } finally {
        await Promise.all([first.close(), second.close()]);
      }
    });

    it('lets a queued fault go before the rate-based draw', async () => {
      const flaky = await startSimulator({ models: [{ id: 'sim-flaky', faultRates: { server_error: 1 } }] });
      try {
        flaky.injectFaults({ kind: 'overloaded' });
        expect(await statuses(flaky, 2)).toEqual([529, 500]);
      } finally {
        await flaky.close();
      }
    });
  });
});
