import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startSimulator, type Simulator } from '@dosrouter/provider-sim';
import { probeModels } from './models-probe.js';

describe('the models probe', () => {
  let simulator: Simulator;
  beforeAll(async () => {
    simulator = await startSimulator({ models: [{ id: 'listed-model' }], apiKey: 'sk-probe-key' });
  });
  afterAll(() => simulator.close());
  const target = (overrides: Partial<Parameters<typeof probeModels>[0]> = {}) => ({
    baseUrl: simulator.baseUrl,
    headers: { authorization: 'Bearer sk-probe-key' },
    upstreamModel: 'listed-model',
    timeoutMs: 2_000,
    ...overrides,
  });

  it('passes when the backend lists the model', async () => {
    const result = await probeModels(target());
    expect(result).toMatchObject({ ok: true, status: 200 });
    expect(result.latencyMs).toBeGreaterThanOrEqual(0);
  });

  it('passes, with a warning, when the backend answers but does not list the model (Azure, llama.cpp)', async () => {
    const result = await probeModels(target({ upstreamModel: 'my-azure-deployment' }));
    expect(result).toMatchObject({ ok: true, status: 200 });
    expect(result.warning).toMatch(/^model my-azure-deployment is not listed/);
  });

  it('fails with the status when the credential is refused', async () => {
    expect(await probeModels(target({ headers: {} }))).toMatchObject({ ok: false, status: 401 });
  });

  it('fails when nothing listens', async () => {
    const result = await probeModels(target({ baseUrl: 'http://127.0.0.1:1/v1' }));
    expect(result.ok).toBe(false);
    expect(result.reason).toMatch(/^unreachable/);
  });
});
