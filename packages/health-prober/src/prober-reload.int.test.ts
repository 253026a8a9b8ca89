import { once } from 'node:events';
import { mkdtempSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { spawnRegistered } from '../../../scripts/cluster/process-registry.mjs';
import { expectSighupWhileStartingSurvived, heldConfigFile, logLines } from '../../shared/src/test-support/held-startup.js';
import { TEST_REDIS_URL } from '../../shared/src/test-support/redis.js';
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
      // The refusal's error line is expected here: kept off the test output.
      logger: createLogger({ level: 'error', service: 'prober', destination: new Writable({ write: (_chunk, _encoding, callback) => callback() }) }),
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

describe('the prober process on SIGHUP', () => {
  it('reads its file again and reconciles the schedulers', async () => {
    fixture = await startProberFixture({ intervalMs: 60_000 });
    const current = fixture;
    const directory = mkdtempSync(join(tmpdir(), 'dosrouter-prober-reload-'));
    const path = join(directory, 'prober.yaml');
    // JSON is YAML too; written as an editor does, a new file renamed over the old one.
    const write = (document: Record<string, unknown>): void => {
      writeFileSync(`${path}.tmp`, JSON.stringify(document));
      renameSync(`${path}.tmp`, path);
    };
    // At info level: the test reads the 'prober listening' and 'config reloaded' lines.
    const atInfo = (document: Record<string, unknown>): void => {
      document.logging = { level: 'info' };
    };
    write(current.document(atInfo));
    const repository = fileURLToPath(new URL('../../../', import.meta.url));
    const child = spawnRegistered(process.execPath, [join(repository, 'packages/health-prober/dist/main.js'), '--config', path], {
      cwd: repository,
      env: { ...process.env, REDIS_URL: TEST_REDIS_URL, DOSROUTER_REDIS_PREFIX: current.prefix, PROBER_PORT: '0', PROBER_HOST: '127.0.0.1', DOSROUTER_PROBER_ID: 'prober-sighup' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const lines: Record<string, unknown>[] = [];
    try {
      await new Promise<void>((resolve, reject) => {
        createInterface({ input: child.stdout! }).on('line', (line) => {
          const entry = JSON.parse(line) as Record<string, unknown>;
          lines.push(entry);
          if (entry.message === 'prober listening') resolve();
        });
        child.once('exit', (code) => reject(new Error(`prober exited with ${code}`)));
      });
      expect(Object.keys(await schedulers(current)).sort()).toEqual(['probe:a/chat-model', 'probe:b/chat-model', 'weights:recompute']);
      write(
        current.document((document) => {
          atInfo(document);
          document.backends = (document.backends as unknown[]).slice(0, 1);
        }),
      );
      child.kill('SIGHUP');
      await expect.poll(async () => Object.keys(await schedulers(current)).sort(), { timeout: 20_000 }).toEqual(['probe:a/chat-model', 'weights:recompute']);
      await expect.poll(() => lines.some((line) => line.message === 'config reloaded' && line.trigger === 'SIGHUP'), { timeout: 10_000 }).toBe(true);
      // Its info record carries the new revision from its next heartbeat.
      const started = lines.find((line) => line.message === 'prober listening')?.revision;
      const published = async (): Promise<string | undefined> => (await readReplicaInfos(current.redis, current.keys)).find((info) => info.id === 'prober-sighup')?.configRevision;
      await expect.poll(async () => {
        const revision = await published();
        return revision !== undefined && revision !== started;
      }, { timeout: 10_000 }).toBe(true);
    } finally {
      if (child.exitCode === null) {
        child.kill('SIGTERM');
        await once(child, 'exit');
      }
      rmSync(directory, { recursive: true, force: true });
    }
  }, 60_000);
});

describe('the prober process sent SIGHUP while it starts', () => {
  it('stays up, serves /healthz and reloads once it is up', async () => {
    fixture = await startProberFixture({ intervalMs: 60_000 });
    const current = fixture;
    // Its startup blocks reading a config that is a named pipe until the test writes it: the SIGHUP surely comes first.
    const config = heldConfigFile(JSON.stringify(current.document((document) => void (document.logging = { level: 'info' }))));
    const repository = fileURLToPath(new URL('../../../', import.meta.url));
    const child = spawnRegistered(process.execPath, [join(repository, 'packages/health-prober/dist/main.js'), '--config', config.path], {
      cwd: repository,
      env: { ...process.env, REDIS_URL: TEST_REDIS_URL, DOSROUTER_REDIS_PREFIX: current.prefix, PROBER_PORT: '0', PROBER_HOST: '127.0.0.1', DOSROUTER_PROBER_ID: 'prober-sighup-start' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    await expectSighupWhileStartingSurvived(child, logLines(child, 'prober listening'), config);
  }, 60_000);
});
