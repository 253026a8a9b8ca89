import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
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

  describe('GET /_sim/stats', () => {
    it('answers the live counters', async () => {
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
      });
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
    it('clears stats, faults and recorded requests', async () => {
      await ask();
      await requestJson(`${controlUrl}/faults`, { body: { kind: 'server_error' } });

      const response = await requestJson(`${controlUrl}/reset`, { method: 'POST' });

      expect(response.status).toBe(204);
      expect(simulator.stats.requests).toBe(0);
      expect(simulator.recentRequests()).toEqual([]);
      expect((await ask()).status).toBe(200);
    });
  });

  it('answers an OpenAI-shaped 404 for an unknown control route', async () => {
    const response = await requestJson(`${controlUrl}/nothing`);

    expect(response.status).toBe(404);
    expect(response.body).toMatchObject({ error: { type: 'invalid_request_error' } });
  });
});
