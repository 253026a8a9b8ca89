import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { startSimulator, type Simulator } from '@dosrouter/provider-sim';
import { ModelCatalog, configSchema } from '@dosrouter/shared';
import { probePlans, runPlannedProbe, type ProbePlan } from '../probe-plan.js';

/**
 * The probes of a `kind: gemini` backend, planned from config as the prober plans them, against the provider
 * simulator speaking the Gemini API: the credential in x-goog-api-key, GET {base}/models and a streamed
 * models/{model}:streamGenerateContent?alt=sse below the versioned base URL.
 */
describe('the probes of a kind: gemini backend', () => {
  let simulator: Simulator;
  beforeAll(async () => {
    simulator = await startSimulator({ models: [{ id: 'gemini-2.5-flash', firstTokenDelayMs: 40 }], apiKey: 'AIza-probe-key' });
  });
  beforeEach(() => simulator.reset());
  afterAll(() => simulator.close());

  function plan(kind: 'models' | 'chat', options: { apiKey?: string; upstreamModel?: string; reasoning?: boolean } = {}): ProbePlan {
    const config = configSchema.parse({
      prober: { probe: { kind, timeoutMs: 2_000, reasoning: options.reasoning ?? false } },
      backends: [
        {
          name: 'google',
          kind: 'gemini',
          baseUrl: `${new URL(simulator.baseUrl).origin}/v1beta`,
          apiKey: options.apiKey ?? 'AIza-probe-key',
          models: [{ name: 'flash', upstreamModel: options.upstreamModel ?? 'gemini-2.5-flash' }],
        },
      ],
    });
    const { plans } = probePlans(new ModelCatalog(config).models().flatMap((group) => group.deployments), config.backends);
    return plans[0]!;
  }
  const sent = () => simulator.recentRequests().at(-1)!;

  it('lists models with GET /v1beta/models and x-goog-api-key, and finds the deployment among them', async () => {
    expect(await runPlannedProbe(plan('models'))).toEqual({ ok: true, status: 200, latencyMs: expect.any(Number) as unknown });
    expect(sent()).toMatchObject({ method: 'GET', path: '/v1beta/models', headers: { 'x-goog-api-key': 'AIza-probe-key' } });
    expect(sent().headers).not.toHaveProperty('authorization');
    expect(await runPlannedProbe(plan('models', { upstreamModel: 'gemini-unknown' }))).toMatchObject({ ok: true, warning: expect.stringContaining('gemini-unknown') as unknown });
  });

  it('asks a streamed generateContent question and times its first token', async () => {
    const result = await runPlannedProbe(plan('chat'));
    expect(result).toMatchObject({ ok: true, status: 200 });
    expect(result.ttftMs).toBeGreaterThanOrEqual(30);
    expect(sent()).toMatchObject({
      method: 'POST',
      path: '/v1beta/models/gemini-2.5-flash:streamGenerateContent',
      body: { contents: [{ role: 'user', parts: [{ text: 'Reply with OK.' }] }], generationConfig: { maxOutputTokens: 16 } },
    });
    await runPlannedProbe(plan('chat', { reasoning: true }));
    expect(sent().body).toMatchObject({ generationConfig: { maxOutputTokens: 64, thinkingConfig: { thinkingBudget: 128 } } });
  });

  it('fails with the status and the Gemini status when the credential or the quota refuses', async () => {
    expect(await runPlannedProbe(plan('models', { apiKey: 'AIza-wrong' }))).toMatchObject({ ok: false, status: 400 });
    expect(await runPlannedProbe(plan('chat', { apiKey: 'AIza-wrong' }))).toMatchObject({ ok: false, status: 400, reason: 'status 400 (INVALID_ARGUMENT)' });
    simulator.injectFaults({ kind: 'rate_limit', count: 1 });
    expect(await runPlannedProbe(plan('chat'))).toMatchObject({ ok: false, status: 429, reason: 'status 429 (RESOURCE_EXHAUSTED)' });
  });

  it('fails on an error event in the stream and on a stream cut before its finishReason', async () => {
    simulator.injectFaults({ kind: 'stream_error', count: 1 });
    expect(await runPlannedProbe(plan('chat'))).toMatchObject({ ok: false, status: 200, reason: 'stream reported an error (UNAVAILABLE)' });
    simulator.injectFaults({ kind: 'stream_cut', count: 1 });
    expect(await runPlannedProbe(plan('chat'))).toMatchObject({ ok: false, status: 200 });
  });
});
