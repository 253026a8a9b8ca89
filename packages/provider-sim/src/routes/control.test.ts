import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { requestJson } from '../test-support/read-event-stream.js';
import { startSimulator } from '../simulator.js';
import type { Simulator } from '../types.js';

describe('the /_sim control API', () => {
  let simulator: Simulator;
  let controlUrl: string;
  const apiHeaders = { authorization: 'Bearer sk-control' };
  const ask = (): Promise<{ status: number }> =>
    requestJson(`${simulator.baseUrl}/chat/completions`, {
      headers: apiHeaders,
      body: { model: 'sim-a', messages: [{ role: 'user', content: 'hello' }] },
    });

  beforeAll(async () => {
    simulator = await startSimulator({ apiKey: 'sk-control', models: [{ id: 'sim-a' }] });
    controlUrl = `http://127.0.0.1:${simulator.port}/_sim`;
  });

  afterEach(() => {
    simulator.reset();
  });

  afterAll(async () => {
    await simulator.close();
  });

  describe('POST /_sim/faults', () => {
    it('queues a fault without an API key', async () => {
      const response = await requestJson(`${controlUrl}/faults`, { body: { kind: 'server_error', count: 2 } });

      expect(response.status).toBe(200);
      expect(response.body).toEqual({ queued: [{ kind: 'server_error', count: 2 }] });
      expect((await ask()).status).toBe(500);
      expect((await ask()).status).toBe(500);
      expect((await ask()).status).toBe(200);
    });

    it('queues an array of faults in order', async () => {
      await requestJson(`${controlUrl}/faults`, { body: [{ kind: 'rate_limit' }, { kind: 'overloaded' }] });

      expect((await ask()).status).toBe(429);
      expect((await ask()).status).toBe(529);
    });

    it('answers 400 naming the bad field and queues nothing', async () => {
      const response = await requestJson(`${controlUrl}/faults`, { body: [{ kind: 'rate_limit' }, { kind: 'hang', count: 0 }] });

      expect(response.status).toBe(400);
      expect(response.body).toMatchObject({ error: { type: 'invalid_request_error', message: expect.stringContaining('count') } });
      expect((await requestJson(`${controlUrl}/faults`)).body).toEqual({ queued: [] });
    });
  });

  describe('DELETE /_sim/faults', () => {
    it('clears the queue', async () => {
      await requestJson(`${controlUrl}/faults`, { body: { kind: 'server_error' } });

      const response = await requestJson(`${controlUrl}/faults`, { method: 'DELETE' });

      expect(response.status).toBe(204);
      expect((await ask()).status).toBe(200);
    });
  });

  describe('/_sim/outage', () => {
    const listModels = (): Promise<{ status: number; body: unknown }> =>
      requestJson(`${simulator.baseUrl}/models`, { headers: apiHeaders });

    it('answers null while the backend is up', async () => {
      const response = await requestJson(`${controlUrl}/outage`);

      expect(response.status).toBe(200);
      expect(response.body).toEqual({ outage: null });
    });

    it('PUT takes the whole backend down, models list included, until DELETE', async () => {
      const put = await requestJson(`${controlUrl}/outage`, { method: 'PUT', body: { mode: 'error', status: 502 } });

      expect(put.status).toBe(200);
      expect(put.body).toEqual({ outage: { mode: 'error', status: 502 } });
      expect((await requestJson(`${controlUrl}/outage`)).body).toEqual({ outage: { mode: 'error', status: 502 } });
      expect(await listModels()).toMatchObject({ status: 502, body: { error: { code: 'backend_outage' } } });
      expect((await ask()).status).toBe(502);
      expect(simulator.stats.faults).toEqual({ outage: 2 });

      const deleted = await requestJson(`${controlUrl}/outage`, { method: 'DELETE' });

      expect(deleted.status).toBe(204);
      expect((await requestJson(`${controlUrl}/outage`)).body).toEqual({ outage: null });
      expect((await listModels()).status).toBe(200);
    });

    it("PUT in mode 'reset' drops every /v1 connection", async () => {
      await requestJson(`${controlUrl}/outage`, { method: 'PUT', body: { mode: 'reset' } });

      await expect(listModels()).rejects.toThrow(TypeError);
      expect(simulator.stats.faults).toEqual({ outage: 1 });
    });

    it("PUT in mode 'hang' leaves /v1 requests unanswered", async () => {
      await requestJson(`${controlUrl}/outage`, { method: 'PUT', body: { mode: 'hang' } });

      const answer = fetch(`${simulator.baseUrl}/models`, { headers: apiHeaders, signal: AbortSignal.timeout(100) });

      await expect(answer).rejects.toThrow(/aborted/);
      await vi.waitFor(() => expect(simulator.stats.aborted).toBe(1), { timeout: 10_000 });
    });

    it.each([
      [{ mode: 'down' }, 'mode'],
      [{ mode: 'error', status: 302 }, 'status'],
      [{ mode: 'reset', status: 503 }, 'status: only applies to mode "error"'],
      [[{ mode: 'error' }], 'expected a JSON outage object'],
    ])('PUT %j answers 400 naming the problem and keeps the backend up', async (body, message) => {
      const response = await requestJson(`${controlUrl}/outage`, { method: 'PUT', body });

      expect(response.status).toBe(400);
      expect(response.body).toMatchObject({ error: { type: 'invalid_request_error', message: expect.stringContaining(message) } });
      expect(simulator.outage).toBeUndefined();
    });

    it('PUT without a JSON body answers 400', async () => {
      const response = await requestJson(`${controlUrl}/outage`, { method: 'PUT', rawBody: 'down' });

      expect(response.status).toBe(400);
      expect(response.body).toMatchObject({ error: { message: expect.stringContaining('expected a JSON outage object') } });
    });
  });

  describe('GET /_sim/stats', () => {
    it('answers the live counters, with the usage of the answers that reported it', async () => {
      await requestJson(`${controlUrl}/faults`, { body: { kind: 'rate_limit' } });
      await ask();
      await ask();

      const response = await requestJson(`${controlUrl}/stats`);

      expect(response.body).toEqual({
        requests: 2,
        completed: 2,
        aborted: 0,
        faults: { rate_limit: 1 },
        byModel: { 'sim-a': 2 },
        byHttpVersion: { '1.1': 2 },
        // The 429 reported nothing; the answer: ceil("hello".length / 4) + 3 prompt tokens, 16 completion tokens.
        usage: { answers: 1, promptTokens: 5, completionTokens: 16, cacheReadTokens: 0, cacheWriteTokens: 0 },
      });
    });
  });

  describe('GET /_sim/usage', () => {
    it('answers the reported usage per x-request-id the clients sent', async () => {
      const askAs = (requestId: string): Promise<{ status: number }> =>
        requestJson(`${simulator.baseUrl}/chat/completions`, {
          headers: { ...apiHeaders, 'x-request-id': requestId },
          body: { model: 'sim-a', messages: [{ role: 'user', content: 'hello' }] },
        });
      await askAs('req-a');
      await askAs('req-a');
      await askAs('req-b');

      const response = await requestJson(`${controlUrl}/usage`);

      expect(response.status).toBe(200);
      expect(response.body).toEqual({
        requests: {
          'req-a': { answers: 2, promptTokens: 10, completionTokens: 32, cacheReadTokens: 0, cacheWriteTokens: 0 },
          'req-b': { answers: 1, promptTokens: 5, completionTokens: 16, cacheReadTokens: 0, cacheWriteTokens: 0 },
        },
      });
    });

    it('answers an empty map before any answer', async () => {
      expect((await requestJson(`${controlUrl}/usage`)).body).toEqual({ requests: {} });
    });
  });

  describe('GET /_sim/requests', () => {
    it('answers the recorded requests, newest last', async () => {
      await ask();

      const response = await requestJson(`${controlUrl}/requests`);

      expect(response.body).toEqual([
        expect.objectContaining({ method: 'POST', path: '/v1/chat/completions', body: expect.objectContaining({ model: 'sim-a' }) }),
      ]);
    });
  });

  describe('POST /_sim/reset', () => {
    it('clears stats, usage, faults, the outage and recorded requests', async () => {
      await ask();
      await requestJson(`${controlUrl}/faults`, { body: { kind: 'server_error' } });
      await requestJson(`${controlUrl}/outage`, { method: 'PUT', body: { mode: 'error' } });

      const response = await requestJson(`${controlUrl}/reset`, { method: 'POST' });

      expect(response.status).toBe(204);
      expect(simulator.stats.requests).toBe(0);
      expect((await requestJson(`${controlUrl}/stats`)).body).toMatchObject({ usage: { answers: 0, promptTokens: 0 } });
      expect((await requestJson(`${controlUrl}/usage`)).body).toEqual({ requests: {} });
      expect(simulator.recentRequests()).toEqual([]);
      expect(simulator.outage).toBeUndefined();
      expect((await ask()).status).toBe(200);
    });
  });

  it('answers an OpenAI-shaped 404 for an unknown control route', async () => {
    const response = await requestJson(`${controlUrl}/nothing`);

    expect(response.status).toBe(404);
    expect(response.body).toMatchObject({ error: { type: 'invalid_request_error' } });
  });
});
