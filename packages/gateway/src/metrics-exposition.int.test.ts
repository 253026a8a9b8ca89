import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { checkMetrics } from '../../shared/src/test-support/promtool.js';
import { eventually, startHarness, type Harness } from './test-support/harness.js';

describe('the gateway’s /metrics exposition', () => {
  let harness: Harness;
  beforeAll(async () => {
    harness = await startHarness({
      models: [{ id: 'sim-model', outputTokens: 4 }, { id: 'sim-embed' }],
      // The embedded prober puts its metrics on the gateway's registry too: they are checked with the rest.
      configure: (config) => (config.prober = { embedded: true, probe: { intervalMs: 1_000, timeoutMs: 500 } }),
    });
  });
  afterAll(() => harness.close());

  it('passes `promtool check metrics`, lint included, after traffic of every kind', async () => {
    const client = harness.client();
    await client.chat.completions.create({ model: 'sim-model', messages: [{ role: 'user', content: 'Hi' }] });
    for await (const chunk of await client.chat.completions.create({ model: 'sim-model', stream: true, messages: [{ role: 'user', content: 'Hi' }] })) void chunk;
    await client.embeddings.create({ model: 'sim-embed', input: 'Hi' });
    harness.simulator.injectFaults({ kind: 'server_error', count: 1 });
    await client.chat.completions.create({ model: 'sim-model', messages: [{ role: 'user', content: 'Hi' }] }).catch(() => undefined);
    const scrape = async (): Promise<string> => (await fetch(`${harness.gateway.url}/metrics`)).text();
    await eventually(async () => (await scrape()).includes('dosrouter_probes_total{'), 10_000);
    const exposition = await scrape();
    expect(exposition).toMatch(/^dosrouter_upstream_errors_total\{/m);

    expect(await checkMetrics(exposition)).toEqual({ exitCode: 0, output: '' });
  });

  it('names the Node.js process metrics as standard dashboards expect, without a doubled prefix', async () => {
    const exposition = await (await fetch(`${harness.gateway.url}/metrics`)).text();
    for (const name of ['process_cpu_seconds_total', 'process_resident_memory_bytes', 'process_start_time_seconds', 'nodejs_eventloop_lag_seconds', 'nodejs_heap_size_used_bytes', 'nodejs_version_info']) {
      expect(exposition).toMatch(new RegExp(`^# TYPE ${name} `, 'm'));
    }
    expect(exposition).not.toContain('dosrouter_process_');
  });
});
