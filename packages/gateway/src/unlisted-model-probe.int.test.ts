// The default `models` probe against a backend that answers but lists other ids than the deployment's (Azure OpenAI
// lists base models, not deployment names; llama.cpp lists a file path unless started with --alias).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startSimulator, type Simulator } from '@dosrouter/provider-sim';
import { configSchema, createLogger } from '@dosrouter/shared';
import { startGateway, type RunningGateway } from './gateway.js';
import { eventually, LogCapture } from './test-support/harness.js';

describe('a deployment whose upstream id its backend does not list', () => {
  const intervalMs = 200;
  let simulator: Simulator;
  let gateway: RunningGateway;
  const logs = new LogCapture();

  beforeAll(async () => {
    simulator = await startSimulator({ models: [{ id: 'gpt-4o-mini' }] });
    const config = configSchema.parse({
      logging: { level: 'info', accessLog: false },
      prober: { probe: { intervalMs, timeoutMs: 150 }, recomputeIntervalMs: 1_000 },
      backends: [{ name: 'azure', baseUrl: simulator.baseUrl, models: [{ name: 'mini', upstreamModel: 'my-mini-deployment' }] }],
    });
    gateway = await startGateway({ config, logger: createLogger({ level: 'info', service: 'gateway', destination: logs }), port: 0, host: '127.0.0.1' });
  });
  afterAll(async () => {
    await gateway?.close(1_000);
    await simulator?.close();
  });

  const okProbes = async (): Promise<number> =>
    Number(/dosrouter_probes_total\{deployment="azure\/mini",kind="models",outcome="ok"\} (\d+)/.exec(await (await fetch(`${gateway.url}/metrics`)).text())?.[1] ?? 0);

  it('stays healthy at its configured weight, and the mismatch is logged once as a warning', async () => {
    // Three probes are past the two failures that would have drained it when a mismatch counted as down.
    await eventually(async () => (await okProbes()) >= 4, 20 * intervalMs);
    expect(gateway.cluster.snapshot().weights.get('azure/mini') ?? 1).toBe(1);
    expect(logs.lines.some((line) => line.message === 'deployment health changed' && line.deployment === 'azure/mini')).toBe(false);
    const warnings = logs.lines.filter((line) => line.message === 'probe warning' && line.deployment === 'azure/mini');
    expect(warnings).toHaveLength(1);
    expect(warnings[0]?.warning).toMatch(/^model my-mini-deployment is not listed/);
  });
});
