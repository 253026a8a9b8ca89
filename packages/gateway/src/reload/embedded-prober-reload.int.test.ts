import OpenAI from 'openai';
import { afterEach, describe, expect, it } from 'vitest';
import { configSchema, type GatewayConfig } from '@dosrouter/shared';
import type { RunningGateway } from '../gateway.js';
import { startReloadableGateway } from '../test-support/reloadable-gateway.js';
import { eventually } from '../test-support/harness.js';

describe('the embedded prober across a reload that rebuilds a simulator backend', () => {
  let gateway: RunningGateway | undefined;
  afterEach(async () => {
    await gateway?.close(1_000);
    gateway = undefined;
  });

  it('probes the new in-process simulator, not the closed one, when only upstream.timeouts changed', async () => {
    // Only the default timeouts differ: every backend is rebuilt (a simulator backend on a new port), while what the
    // prober probes (backends, prober, breakers, weights) reads the same.
    const configWith = (connectMs: number): GatewayConfig =>
      configSchema.parse({
        logging: { level: 'warn', accessLog: false },
        prober: { probe: { intervalMs: 200, timeoutMs: 150 }, recomputeIntervalMs: 1_000 },
        upstream: { timeouts: { connectMs } },
        backends: [{ name: 'sim', simulator: {}, models: [{ name: 'm' }] }],
      });
    let next = configWith(5_000);
    gateway = await startReloadableGateway(() => next);
    const probes = async (outcome: 'ok' | 'failed'): Promise<number> => {
      const metric = await gateway!.metrics.registry.getSingleMetric('dosrouter_probes_total')?.get();
      return (metric?.values ?? []).filter((value) => value.labels.outcome === outcome).reduce((sum, value) => sum + value.value, 0);
    };
    await eventually(async () => (await probes('ok')) >= 1, 10_000, 'a first successful probe');
    const before = gateway.live.current;
    next = configWith(4_000);
    expect(await gateway.reloadConfig()).toMatchObject({ result: 'applied' });
    expect(gateway.live.current.backends.get('sim')).not.toBe(before.backends.get('sim'));
    // No request runs on the old snapshot: its simulator closes at once.
    await eventually(() => before.backends.get('sim').pool.closed, 5_000, 'the replaced backend closed');
    const failedBefore = await probes('failed');
    const okAfter = (await probes('ok')) + 3;
    await eventually(async () => (await probes('ok')) >= okAfter || (await probes('failed')) > failedBefore, 10_000, 'three more probes');
    expect(await probes('failed')).toBe(failedBefore);
    expect(gateway.cluster.snapshot().weights.get('sim/m')).toBe(1);
    const client = new OpenAI({ apiKey: 'unused', baseURL: `${gateway.url}/v1`, maxRetries: 0 });
    expect((await client.chat.completions.create({ model: 'm', messages: [{ role: 'user', content: 'Hi' }] })).choices[0]?.message.content?.length).toBeGreaterThan(0);
  });
});
