import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startSimulator, type Simulator } from '@dosrouter/provider-sim';
import { startProber, type RunningProber } from '../../../health-prober/src/prober.js';
import { DOSROUTER_VERSION, configRevision, configSchema, createLogger, readReplicaInfos, revisionsOf, type GatewayConfig, type ReplicaInfo } from '@dosrouter/shared';
import { testRedis, type TestRedis } from '../../../shared/src/test-support/redis.js';
import { startGateway, type RunningGateway } from '../gateway.js';
import { LogCapture, eventually, startHarness, type Harness } from '../test-support/harness.js';

const REDIS_URL = process.env.TEST_REDIS_URL ?? 'redis://127.0.0.1:6379';
const ADMIN_KEY = `admin-key-replica-info-${randomBytes(4).toString('hex')}`;

describe('replica info records: two replicas running different config revisions and a prober', () => {
  let simulator: Simulator;
  let inspect: TestRedis;
  let configs: GatewayConfig[];
  let gateways: RunningGateway[];
  let prober: RunningProber;

  beforeAll(async () => {
    simulator = await startSimulator({ models: [{ id: 'm' }, { id: 'n' }] });
    inspect = await testRedis('replica-info');
    const document = (models: string[]) => ({
      logging: { level: 'info' },
      redis: { url: REDIS_URL, keyPrefix: inspect.prefix, pollIntervalMs: 200, commandTimeoutMs: 5_000 },
      prober: { probe: { intervalMs: 60_000 } },
      backends: [{ name: 'sim', baseUrl: simulator.baseUrl, models: models.map((name) => ({ name })) }],
    });
    // The second replica has one model more: the state of a config change rolled out halfway.
    configs = [configSchema.parse(document(['m'])), configSchema.parse(document(['m', 'n']))];
    gateways = [];
    for (const [index, config] of configs.entries()) {
      const logger = createLogger({ level: 'warn', service: 'gateway', destination: new LogCapture() });
      // A reload reads the second config: the state the rollout reaches.
      gateways.push(await startGateway({ config, logger, port: 0, host: '127.0.0.1', replica: `gateway-${index + 1}`, adminKey: ADMIN_KEY, loadConfig: () => configs[1]! }));
    }
    prober = await startProber({ config: configs[1]!, proberId: 'prober-1', port: 0, host: '127.0.0.1', logger: createLogger({ level: 'warn', service: 'prober', destination: new LogCapture() }) });
  });
  afterAll(async () => {
    await prober?.close();
    await Promise.all((gateways ?? []).map((gateway) => gateway.close(1_000)));
    await inspect?.cleanup();
    await simulator?.close();
  });

  const ids = (infos: readonly ReplicaInfo[]): string[] => infos.map((info) => info.id);

  it('lists every live gateway and prober with its role, version, revision, start and Redis state', async () => {
    let infos: ReplicaInfo[] = [];
    await eventually(async () => {
      infos = await gateways[0]!.cluster.replicas.readReplicaInfos();
      return ids(infos).join() === 'gateway-1,gateway-2,prober-1';
    }, 10_000, 'both replicas and the prober listed');
    const [first, second, probing] = infos;
    expect(first).toMatchObject({ role: 'gateway', version: DOSROUTER_VERSION, configRevision: configRevision(configs[0]!), redis: 'ok' });
    expect(second).toMatchObject({ role: 'gateway', configRevision: configRevision(configs[1]!), redis: 'ok' });
    expect(probing).toMatchObject({ role: 'prober', version: DOSROUTER_VERSION, configRevision: configRevision(configs[1]!), redis: 'ok' });
    expect(first!.configRevision).toMatch(/^[0-9a-f]{12}$/);
    expect(first!.configRevision).not.toBe(second!.configRevision);
    for (const info of infos) {
      expect(info.startedAt).toBeLessThanOrEqual(info.lastSeen);
      expect(Date.now() - info.lastSeen).toBeLessThan(30_000);
    }
  });

  it('keeps each record under a TTL of a few heartbeats', async () => {
    const ttl = await inspect.redis.pttl(inspect.keys.replicaInfo('gateway-1'));
    expect(ttl).toBeGreaterThan(0);
    expect(ttl).toBeLessThanOrEqual(3 * 200);
  });

  it('shows this replica’s revision and the cluster’s in /readyz/detail, behind the admin key', async () => {
    const url = `${gateways[0]!.url}/readyz/detail`;
    expect((await fetch(url)).status).toBe(401);
    expect((await fetch(`${gateways[0]!.url}/readyz`)).status).toBe(200);
    const response = await fetch(url, { headers: { authorization: `Bearer ${ADMIN_KEY}` } });
    expect(response.status).toBe(200);
    const detail = (await response.json()) as { status: string; replica: string; configRevision: string; revisions: Record<string, string[]>; replicas: ReplicaInfo[] };
    expect(detail.status).toBe('ready');
    expect(detail.replica).toBe('gateway-1');
    expect(detail.configRevision).toBe(configRevision(configs[0]!));
    expect(detail.revisions).toEqual({
      [configRevision(configs[0]!)]: ['gateway-1'],
      [configRevision(configs[1]!)]: ['gateway-2', 'prober-1'],
    });
  });

  it('shows one revision again once the lagging replica reloaded the same config', async () => {
    const status = await gateways[0]!.reloadConfig();
    expect(status).toMatchObject({ result: 'applied' });
    await eventually(async () => {
      const infos = await gateways[1]!.cluster.replicas.readReplicaInfos();
      return infos.find((info) => info.id === 'gateway-1')?.configRevision === configRevision(configs[1]!);
    }, 10_000, 'gateway-1’s new revision published');
    const infos = await readReplicaInfos(inspect.redis, inspect.keys);
    expect(Object.keys(revisionsOf(infos))).toEqual([configRevision(configs[1]!)]);
    expect(infos.find((info) => info.id === 'gateway-1')?.configReload).toMatchObject({ result: 'applied' });
  });

  it('drops a replica’s record as soon as it stops', async () => {
    await gateways.pop()!.close(1_000);
    expect(ids(await readReplicaInfos(inspect.redis, inspect.keys))).toEqual(['gateway-1', 'prober-1']);
  });
});

describe('replica info in embedded mode', () => {
  let harness: Harness;
  beforeAll(async () => {
    harness = await startHarness({ models: [{ id: 'm' }] });
  });
  afterAll(() => harness?.close());

  it('is the one replica’s own record, also in /readyz/detail (open mode)', async () => {
    const infos = await harness.gateway.cluster.replicas.readReplicaInfos();
    expect(infos).toHaveLength(1);
    expect(infos[0]).toMatchObject({ id: harness.gateway.cluster.replica, role: 'gateway', redis: 'ok', version: DOSROUTER_VERSION });
    const detail = (await (await fetch(`${harness.gateway.url}/readyz/detail`)).json()) as { revisions: Record<string, string[]> };
    expect(detail.revisions).toEqual({ [infos[0]!.configRevision]: [harness.gateway.cluster.replica] });
  });
});
