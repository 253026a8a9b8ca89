import OpenAI from 'openai';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { requestJson } from '../test-support/read-event-stream.js';
import { startSimulator } from '../simulator.js';
import type { Outage, Simulator } from '../types.js';
import { parseOutage } from './outage.js';

const outageBody = {
  error: { message: 'The simulated backend is down (outage)', type: 'server_error', param: null, code: 'backend_outage' },
};

describe('an outage of the whole simulated backend', () => {
  let simulator: Simulator;
  let client: OpenAI;
  const headers = { authorization: 'Bearer sk-outage' };
  const question = { model: 'sim-a', messages: [{ role: 'user' as const, content: 'hello' }] };

  beforeAll(async () => {
    simulator = await startSimulator({ apiKey: 'sk-outage', models: [{ id: 'sim-a' }] });
    client = new OpenAI({ apiKey: 'sk-outage', baseURL: simulator.baseUrl, maxRetries: 0 });
  });

  afterEach(() => {
    simulator.reset();
  });

  afterAll(async () => {
    await simulator.close();
  });

  describe("in mode 'error'", () => {
    it('answers 503 backend_outage on every /v1 route, the models list included', async () => {
      simulator.setOutage({ mode: 'error' });

      const answers = await Promise.all([
        requestJson(`${simulator.baseUrl}/chat/completions`, { headers, body: question }),
        requestJson(`${simulator.baseUrl}/completions`, { headers, body: { model: 'sim-a', prompt: 'hello' } }),
        requestJson(`${simulator.baseUrl}/embeddings`, { headers, body: { model: 'sim-a', input: 'hello' } }),
        requestJson(`${simulator.baseUrl}/models`, { headers }),
        requestJson(`${simulator.baseUrl}/models/sim-a`, { headers }),
      ]);

      for (const answer of answers) {
        expect(answer.status).toBe(503);
        expect(answer.body).toEqual(outageBody);
        expect(answer.headers.get('retry-after')).toBeNull();
      }
    });

    it('answers before authentication, so a request without a key gets the outage too', async () => {
      simulator.setOutage({ mode: 'error' });

      const response = await requestJson(`${simulator.baseUrl}/models`);

      expect(response.status).toBe(503);
    });

    it('answers the given status with retry-after, and rate_limit_error for 429', async () => {
      simulator.setOutage({ mode: 'error', status: 429, retryAfterSeconds: 7 });

      const response = await requestJson(`${simulator.baseUrl}/models`, { headers });

      expect(response.status).toBe(429);
      expect(response.headers.get('retry-after')).toBe('7');
      expect(response.body).toMatchObject({ error: { type: 'rate_limit_error', code: 'backend_outage' } });
    });

    it('counts and records the requests it answers', async () => {
      simulator.setOutage({ mode: 'error' });

      await client.models.list().catch(() => undefined);
      await client.chat.completions.create(question).catch(() => undefined);

      expect(simulator.stats).toMatchObject({ requests: 2, completed: 2, faults: { outage: 2 }, byModel: { 'sim-a': 1 } });
      expect(simulator.recentRequests().map((recorded) => recorded.path)).toEqual(['/v1/models', '/v1/chat/completions']);
    });
  });

  describe("in mode 'reset'", () => {
    it('drops the connection without an answer', async () => {
      simulator.setOutage({ mode: 'reset' });

      const error: unknown = await client.models.list().catch((caught: unknown) => caught);

      expect(error).toBeInstanceOf(OpenAI.APIConnectionError);
      expect(simulator.stats).toMatchObject({ requests: 1, aborted: 0, faults: { outage: 1 } });
    });
  });

  describe("in mode 'hang'", () => {
    it('never answers, so the client times out, and counts the request as aborted', async () => {
      simulator.setOutage({ mode: 'hang' });

      const error: unknown = await client.models.list({ timeout: 100 }).catch((caught: unknown) => caught);

      expect(error).toBeInstanceOf(OpenAI.APIConnectionTimeoutError);
      await vi.waitFor(() => expect(simulator.stats.aborted).toBe(1), { timeout: 10_000 });
      expect(simulator.stats.faults).toEqual({ outage: 1 });
    });

    it('lets close() finish by destroying the hung connection', async () => {
      const hanging = await startSimulator({ models: [{ id: 'sim-a' }] });
      hanging.setOutage({ mode: 'hang' });
      const hangingClient = new OpenAI({ apiKey: 'test-key', baseURL: hanging.baseUrl, maxRetries: 0 });

      const pending = hangingClient.models.list().catch((caught: unknown) => caught);
      await vi.waitFor(() => expect(hanging.stats.requests).toBe(1), { timeout: 10_000 });
      await hanging.close();

      expect(await pending).toBeInstanceOf(OpenAI.APIConnectionError);
    });
  });

  describe('when it ends', () => {
    it('answers again once the outage is cleared', async () => {
      simulator.setOutage({ mode: 'error' });
      await expect(client.models.list()).rejects.toBeInstanceOf(OpenAI.InternalServerError);

      simulator.setOutage(undefined);

      const page = await client.models.list();
      expect(page.data.map((model) => model.id)).toEqual(['sim-a']);
      expect(simulator.outage).toBeUndefined();
    });

    it('is cleared by reset()', async () => {
      simulator.setOutage({ mode: 'reset' });

      simulator.reset();

      expect(simulator.outage).toBeUndefined();
      await expect(client.chat.completions.create(question)).resolves.toMatchObject({ object: 'chat.completion' });
    });
  });

  it('keeps /healthz and the control API working', async () => {
    simulator.setOutage({ mode: 'hang' });
    const origin = `http://127.0.0.1:${simulator.port}`;

    expect((await requestJson(`${origin}/healthz`)).status).toBe(200);
    expect((await requestJson(`${origin}/_sim/stats`)).status).toBe(200);
  });

  it('reads back a copy of the outage it was given', () => {
    simulator.setOutage({ mode: 'error', status: 502 });

    const outage = simulator.outage;
    if (outage !== undefined) {
      outage.status = 500;
    }

    expect(simulator.outage).toEqual({ mode: 'error', status: 502 });
  });

  describe('validation', () => {
    it.each([
      [{ mode: 'down' }, /^Invalid outage: mode/],
      [{ mode: 'error', status: 200 }, /^Invalid outage: status/],
      [{ mode: 'error', status: 600 }, /^Invalid outage: status/],
      [{ mode: 'error', retryAfterSeconds: -1 }, /^Invalid outage: retryAfterSeconds/],
      [{ mode: 'reset', status: 503 }, /^Invalid outage: status: only applies to mode "error", not "reset"/],
      [{ mode: 'hang', retryAfterSeconds: 1 }, /^Invalid outage: retryAfterSeconds: only applies to mode "error"/],
      [{ mode: 'error', code: 'x' }, /^Invalid outage: \(root\): Unrecognized key: "code"/],
    ])('parseOutage rejects %j naming the bad field', (input, message) => {
      expect(() => parseOutage(input)).toThrow(message);
    });

    it('makes setOutage throw and leave the backend up', async () => {
      const input: unknown = { mode: 'down' };

      expect(() => simulator.setOutage(input as Outage)).toThrow(/^Invalid outage: mode/);
      expect(simulator.outage).toBeUndefined();
      await expect(client.models.list()).resolves.toBeDefined();
    });
  });
});
