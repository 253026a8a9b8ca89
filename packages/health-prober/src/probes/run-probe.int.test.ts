import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { startSimulator, type Simulator } from '@dosrouter/provider-sim';
import type { ChatProbeResult } from './chat-probe.js';
import { runProbe } from './run-probe.js';

describe('running a probe by kind', () => {
  let simulator: Simulator;
  beforeAll(async () => {
    simulator = await startSimulator({ models: [{ id: 'listed-model', firstTokenDelayMs: 30 }], apiKey: 'sk-probe-key' });
  });
  beforeEach(() => simulator.reset());
  afterAll(() => simulator.close());
  const target = () => ({
    baseUrl: simulator.baseUrl,
    headers: { authorization: 'Bearer sk-probe-key' },
    upstreamModel: 'listed-model',
    timeoutMs: 2_000,
  });
  const lastRequest = () => simulator.recentRequests().at(-1);

  it('runs the models probe', async () => {
    expect(await runProbe('models', target(), {})).toMatchObject({ ok: true, status: 200 });
    expect(lastRequest()).toMatchObject({ method: 'GET', path: '/v1/models' });
  });

  it('runs the chat probe, with its time to first token', async () => {
    const result: ChatProbeResult = await runProbe('chat', target(), {});
    expect(result).toMatchObject({ ok: true, status: 200 });
    expect(result.ttftMs).toBeGreaterThanOrEqual(20);
    expect(lastRequest()).toMatchObject({ method: 'POST', path: '/v1/chat/completions', body: { max_tokens: 16 } });
  });

  it('gives a reasoning model its reasoning budget', async () => {
    expect(await runProbe('chat', target(), { reasoning: true })).toMatchObject({ ok: true });
    expect(lastRequest()).toMatchObject({ body: { max_completion_tokens: 64, reasoning_effort: 'low' } });
  });

  it('runs the http probe on a path of the backend', async () => {
    expect(await runProbe('http', target(), { path: '/healthz', expectedStatus: 200 })).toMatchObject({ ok: true, status: 200 });
  });

  it('keeps the credential from the http probe unless told to send it', async () => {
    expect(await runProbe('http', target(), { path: 'models', expectedStatus: 401 })).toMatchObject({ ok: true, status: 401 });
    expect(lastRequest()?.headers).not.toHaveProperty('authorization');
    expect(await runProbe('http', target(), { path: 'models', expectedStatus: 200, sendHeaders: true })).toMatchObject({ ok: true, status: 200 });
    expect(lastRequest()?.headers).toMatchObject({ authorization: 'Bearer sk-probe-key' });
  });
});
