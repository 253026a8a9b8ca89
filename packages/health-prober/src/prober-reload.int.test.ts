import { afterEach, describe, expect, it } from 'vitest';
import { ConfigError, createLogger, readReplicaInfos, type GatewayConfig } from '@dosrouter/shared';
import { checkMetrics } from '../../shared/src/test-support/promtool.js';
import { startProber, type RunningProber } from './prober.js';
import { MODEL, schedulers, scrapeMetrics, startProberFixture, type ProberFixture } from './test-support/prober-fixture.js';

let fixture: ProberFixture | undefined;
let prober: RunningProber | undefined;
afterEach(async () => {
  await prober?.close();
  await fixture?.close();
  prober = undefined;
  fixture = undefined;
});


describe('a prober reloading its config', () => {
  it('reconciles its job schedulers with the new deployments, publishes its new revision, and refuses an invalid config', async () => {
    fixture = await startProberFixture({ intervalMs: 60_000 });
    const current = fixture;
    let next: GatewayConfig | Error = current.config();
    prober = await startProber({
      config: current.config(),
      proberId: 'prober-reload',
      port: 0,
      host: '127.0.0.1',
      adminKey: 'admin-key-for-tests',
      logger: createLogger({ level: 'error', service: 'prober', destination: process.stderr }),
      loadConfig: () => {
        if (next instanceof Error) throw next;
        return next;
      },
    });
    expect(Object.keys(await schedulers(current)).sort()).toEqual(['probe:a/chat-model', 'probe:b/chat-model', 'weights:recompute']);
    const startRevision = prober.info.configRevision;

    // Backend b goes; a gains a second model; every probe interval changes.
    next = current.config((document) => {
      document.backends = [{ name: 'a', baseUrl: current.simulators.a.baseUrl, apiKey: 'sk-prober-test-backend', models: [{ name: MODEL }, { name: 'second', upstreamModel: MODEL }] }];
      (document.prober as { probe: { intervalMs: number } }).probe.intervalMs = 45_000;
    });
    expect(await prober.reloadConfig()).toMatchObject({ result: 'applied' });
    expect(await schedulers(current)).toEqual({ 'probe:a/chat-model': 45_000, 'probe:a/second': 45_000, 'weights:recompute': 5_000 });
    expect(prober.plans.map((plan) => plan.deploymentId)).toEqual(['a/chat-model', 'a/second']);
    expect(prober.schedulers.removed).toEqual(['probe:b/chat-model']);
    expect(prober.info.configRevision).not.toBe(startRevision);
    const infos = async () => (await readReplicaInfos(current.redis, current.keys)).find((info) => info.id === 'prober-reload');
    await expect.poll(async () => (await infos())?.configRevision, { timeout: 10_000 }).toBe(prober.info.configRevision);
    expect((await infos())?.configReload).toMatchObject({ result: 'applied' });

    next = new ConfigError('prober.yaml: invalid configuration\n  - backends[0].baseUrl: Invalid URL');
    const refused = await prober.reloadConfig();
    expect(refused).toMatchObject({ result: 'invalid' });
    expect(refused.error).toContain('backends[0].baseUrl');
    expect(Object.keys(await schedulers(current)).sort()).toEqual(['probe:a/chat-model', 'probe:a/second', 'weights:recompute']);
    const metrics = await scrapeMetrics(prober);
    expect(metrics).toContain('dosrouter_config_reloads_total{result="applied"} 1');
    expect(metrics).toContain('dosrouter_config_reloads_total{result="invalid"} 1');
    expect(await checkMetrics(metrics)).toEqual({ exitCode: 0, output: '' });
  });
});
