// Embedded mode: no Redis; the prober's code runs on timers in the gateway and its tables go straight to routing.
import OpenAI from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startSimulator, type Simulator } from '@dosrouter/provider-sim';
import { configSchema, createLogger } from '@dosrouter/shared';
import { startGateway, type RunningGateway } from './gateway.js';
import { eventually, LogCapture } from './test-support/harness.js';

const messages = [{ role: 'user' as const, content: 'hi' }];

describe('an embedded gateway probes its backends itself', () => {
  const intervalMs = 300;
  let a: Simulator;
  let b: Simulator;
  let gateway: RunningGateway;
  let client: OpenAI;
  const logs = new LogCapture();

  beforeAll(async () => {
    a = await startSimulator({ models: [{ id: 'm' }] });
    b = await startSimulator({ models: [{ id: 'm' }] });
    const config = configSchema.parse({
      logging: { level: 'info', accessLog: false },
      prober: { probe: { intervalMs, timeoutMs: 250 }, recomputeIntervalMs: 1_000 },
      backends: [
        { name: 'a', baseUrl: a.baseUrl, models: [{ name: 'm' }] },
        { name: 'b', baseUrl: b.baseUrl, models: [{ name: 'm' }] },
      ],
    });
    gateway = await startGateway({ config, logger: createLogger({ level: 'info', service: 'gateway', destination: logs }), port: 0, host: '127.0.0.1' });
    client = new OpenAI({ apiKey: 'local', baseURL: `${gateway.url}/v1`, maxRetries: 0 });
  });
  afterAll(async () => {
    await gateway?.close(1_000);
    await Promise.all([a?.close(), b?.close()]);
  });

  const servedBy = async (): Promise<string> => {
    const { response } = await client.chat.completions.create({ model: 'm', messages }).withResponse();
    return response.headers.get('x-dosrouter-deployment') ?? '';
  };
  const metrics = async (): Promise<string> => (await fetch(`${gateway.url}/metrics`)).text();

  it('drains a failing backend and routes around it, without Redis', async () => {
    expect(gateway.cluster.mode).toBe('embedded');
    await eventually(async () => /dosrouter_probes_total\{deployment="b\/m",kind="models",outcome="ok"\}/.test(await metrics()), 10_000);
    b.setOutage({ mode: 'reset' });
    await eventually(() => gateway.cluster.snapshot().weights.get('b/m') === 0, 4 * intervalMs + 500);
    for (let index = 0; index < 20; index += 1) expect(await servedBy()).toBe('a/m');
    const text = await metrics();
    expect(text).toMatch(/dosrouter_routing_weight\{deployment="b\/m"\} 0\n/);
    expect(text).toMatch(/dosrouter_probes_total\{deployment="b\/m",kind="models",outcome="failed"\} [1-9]/);
    expect(logs.lines.some((line) => line.message === 'deployment health changed' && line.deployment === 'b/m' && line.to === 'down')).toBe(true);

    b.setOutage(undefined);
    await eventually(() => gateway.cluster.snapshot().weights.get('b/m') === 1, 12 * intervalMs + 1_000);
    const served = new Set<string>();
    for (let index = 0; index < 30; index += 1) served.add(await servedBy());
    expect(served).toEqual(new Set(['a/m', 'b/m']));
  });

  it('closes a circuit that errors opened as soon as a probe succeeds', async () => {
    gateway.cluster.breakers.apply({ deploymentId: 'a/m', state: 'open', durationMs: 60_000, replica: 'elsewhere', cause: 'errors' });
    expect(gateway.cluster.breakers.isOpen('a/m')).toBe(true);
    await eventually(() => !gateway.cluster.breakers.isOpen('a/m'), 3 * intervalMs);
  });

  it('leaves a circuit a backend’s Retry-After opened alone', async () => {
    const probesOfB = async (): Promise<number> => Number(/dosrouter_probes_total\{deployment="b\/m",kind="models",outcome="ok"\} (\d+)/.exec(await metrics())?.[1] ?? 0);
    gateway.cluster.breakers.openFor('b/m', 60_000, 'rate limited by the backend');
    const before = await probesOfB();
    await eventually(async () => (await probesOfB()) >= before + 2, 6 * intervalMs);
    expect(gateway.cluster.breakers.isOpen('b/m')).toBe(true);
  });
});
