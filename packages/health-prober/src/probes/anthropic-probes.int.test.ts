import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { startSimulator, type Simulator } from '@dosrouter/provider-sim';
import { ModelCatalog, configSchema } from '@dosrouter/shared';
import { probePlans, runPlannedProbe, type ProbePlan } from '../probe-plan.js';

/**
 * The probes of a `kind: anthropic` backend, planned from config as the prober plans them, against the provider
 * simulator speaking Anthropic's protocol: the credential in x-api-key with anthropic-version, GET /v1/models and a
 * streamed POST /v1/messages below the origin.
 */
describe('the probes of a kind: anthropic backend', () => {
  let simulator: Simulator;
  beforeAll(async () => {
    simulator = await startSimulator({ models: [{ id: 'claude-model', firstTokenDelayMs: 40 }], apiKey: 'sk-ant-probe-key' });
  });
  beforeEach(() => simulator.reset());
  afterAll(() => simulator.close());

  function plan(kind: 'models' | 'chat', apiKey = 'sk-ant-probe-key'): ProbePlan {
    const config = configSchema.parse({
      prober: { probe: { kind, timeoutMs: 2_000 } },
      backends: [{ name: 'claude', kind: 'anthropic', baseUrl: new URL(simulator.baseUrl).origin, apiKey, models: [{ name: 'claude-model' }] }],
    });
    const { plans } = probePlans(new ModelCatalog(config).models().flatMap((group) => group.deployments), config.backends);
    return plans[0]!;
  }
  const sent = () => simulator.recentRequests().at(-1)!;

  it('lists models with GET /v1/models, x-api-key and anthropic-version', async () => {
    expect(await runPlannedProbe(plan('models'))).toMatchObject({ ok: true, status: 200 });
    expect(sent()).toMatchObject({ method: 'GET', path: '/v1/models', headers: { 'x-api-key': 'sk-ant-probe-key', 'anthropic-version': '2023-06-01' } });
    expect(sent().headers).not.toHaveProperty('authorization');
  });

  it('asks a streamed Messages question and times its first token', async () => {
    const result = await runPlannedProbe(plan('chat'));
    expect(result).toMatchObject({ ok: true, status: 200 });
    expect(result.ttftMs).toBeGreaterThanOrEqual(30);
    expect(sent()).toMatchObject({
      path: '/v1/messages',
      body: { model: 'claude-model', max_tokens: 16, stream: true, messages: [{ role: 'user', content: 'Reply with OK.' }] },
    });
  });

  it('fails with the status and the error type when the credential is refused', async () => {
    expect(await runPlannedProbe(plan('models', 'sk-wrong'))).toMatchObject({ ok: false, status: 401 });
    expect(await runPlannedProbe(plan('chat', 'sk-wrong'))).toMatchObject({ ok: false, status: 401, reason: 'status 401 (authentication_error)' });
  });

  it('fails on 529 overloaded, and on an error event in the stream', async () => {
    simulator.injectFaults({ kind: 'overloaded', count: 1 });
    expect(await runPlannedProbe(plan('chat'))).toMatchObject({ ok: false, status: 529, reason: 'status 529 (overloaded_error)' });
    simulator.injectFaults({ kind: 'malformed_chunk', count: 1 });
    expect(await runPlannedProbe(plan('chat'))).toMatchObject({ ok: false, status: 200 });
  });
});
