import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startSimulator, type Simulator } from '@dosrouter/provider-sim';
import { RedisKeys, WEIGHTS_SCHEMA_VERSION } from '@dosrouter/shared';
import { testRedis, type TestRedis } from '../../../shared/src/test-support/redis.js';
import { startClusterHarness, type ClusterHarness } from '../test-support/cluster-harness.js';
import { eventually } from '../test-support/harness.js';
import type { RunningGateway } from '../gateway.js';

const REDIS_URL = process.env.TEST_REDIS_URL ?? 'redis://127.0.0.1:6379';
const messages = [{ role: 'user' as const, content: 'hi' }];

/** The generation of the weights table a replica routes on (dosrouter_weights_generation). */
async function weightsGeneration(gateway: RunningGateway): Promise<number> {
  return Number(/^dosrouter_weights_generation (\S+)$/m.exec(await gateway.metrics.registry.metrics())?.[1]);
}

describe('routing weights published by the prober', () => {
  let simulator: Simulator;
  let cluster: ClusterHarness;
  let inspect: TestRedis;
  let keys: RedisKeys;
  let generation = 0;

  const publish = async (weights: Record<string, number>, options: { publishedAt?: number; schemaVersion?: number; generation?: number } = {}) => {
    generation = options.generation ?? generation + 1;
    const document = JSON.stringify({ schemaVersion: options.schemaVersion ?? WEIGHTS_SCHEMA_VERSION, generation, publishedAt: options.publishedAt ?? Date.now(), weights });
    await inspect.redis.set(keys.weightsDocument(), document);
    await inspect.redis.publish(keys.weightsChannel(), document);
  };
  const deploymentsServing = async (count: number) => {
    const seen = new Set<string>();
    for (let index = 0; index < count; index += 1) {
      const { response } = await cluster.client(index % 2).chat.completions.create({ model: 'm', messages }).withResponse();
      seen.add(response.headers.get('x-dosrouter-deployment') ?? '');
    }
    return seen;
  };

  beforeAll(async () => {
    simulator = await startSimulator({ models: [{ id: 'm' }] });
    cluster = await startClusterHarness({
      replicas: 2,
      redisUrl: REDIS_URL,
      document: {
        weights: { staleAfterMs: 2_000 },
        backends: [
          { name: 'a', baseUrl: simulator.baseUrl, models: [{ name: 'm' }] },
          { name: 'b', baseUrl: simulator.baseUrl, models: [{ name: 'm' }] },
        ],
      },
    });
    inspect = await testRedis('weights');
    keys = new RedisKeys(cluster.prefix);
  });
  afterAll(async () => {
    await cluster?.close();
    await inspect?.cleanup();
    await simulator?.close();
  });

  it('routes on configured weights until a table arrives', async () => {
    expect(await deploymentsServing(30)).toEqual(new Set(['a/m', 'b/m']));
  });

  it('applies a published table on every replica: weight 0 takes a deployment out', async () => {
    // At once by pub/sub, else at the next poll (redis.pollIntervalMs, 1 s); the deadline leaves room for a busy machine.
    await publish({ 'a/m': 0, 'b/m': 1 });
    await eventually(() => cluster.gateways.every((gateway) => gateway.cluster.snapshot().weights.get('a/m') === 0), 10_000, 'the table on every replica');
    expect(await deploymentsServing(30)).toEqual(new Set(['b/m']));
  });

  it('keeps its last good table when a document has a schema version it does not know', async () => {
    const good = generation;
    await publish({ 'a/m': 1, 'b/m': 0 }, { schemaVersion: 99, generation: good + 2 });
    // Then a good document between the two generations, announced after the unknown one: a replica that had taken
    // the unknown one would refuse this as older. Once every replica has it, each has passed over the other.
    await publish({ 'a/m': 0, 'b/m': 1 }, { generation: good + 1 });
    await eventually(async () => (await Promise.all(cluster.gateways.map(weightsGeneration))).every((seen) => seen === good + 1), 10_000, 'the good table on every replica');
    expect(await deploymentsServing(20)).toEqual(new Set(['b/m']));
  });

  it('falls back to configured weights once the table is stale, and says so', async () => {
    await publish({ 'a/m': 0, 'b/m': 1 }, { publishedAt: Date.now() - 5_000 });
    // Configured weights (1 each), lowered by no error rate: a deployment with enough requests in the stats window is
    // listed at 1, one without is left out (its configured weight applies); a/m's 0 from the table is gone.
    await eventually(
      () => cluster.gateways.every((gateway) => [...gateway.cluster.snapshot().weights.values()].every((weight) => weight === 1)),
      10_000,
      'configured weights on every replica',
    );
    expect(await deploymentsServing(30)).toEqual(new Set(['a/m', 'b/m']));
    const metrics = await cluster.gateways[0]!.metrics.registry.metrics();
    expect(metrics).toMatch(/^dosrouter_weights_stale 1$/m);
    expect(cluster.logs[0]!.lines.some((line) => String(line.message).includes('weights are stale'))).toBe(true);
  });
});

describe('without a fresh table from a prober', () => {
  let healthy: Simulator;
  let failing: Simulator;
  let cluster: ClusterHarness;

  beforeAll(async () => {
    healthy = await startSimulator({ models: [{ id: 'm' }] });
    failing = await startSimulator({ models: [{ id: 'm', faultRates: { server_error: 1 } }] });
    cluster = await startClusterHarness({
      replicas: 2,
      redisUrl: REDIS_URL,
      document: {
        // Circuits stay closed here, so that what lowers the weight is the error rate alone.
        breakers: { volumeThreshold: 10_000 },
        backends: [
          { name: 'a', baseUrl: healthy.baseUrl, models: [{ name: 'm' }] },
          { name: 'b', baseUrl: failing.baseUrl, models: [{ name: 'm' }] },
        ],
      },
    });
  });
  afterAll(async () => {
    await cluster?.close();
    await Promise.all([healthy?.close(), failing?.close()]);
  });

  it('routes on configured weights lowered by the cluster’s own rolling error rates', async () => {
    for (let index = 0; index < 60; index += 1) {
      await cluster.client(index % 2).chat.completions.create({ model: 'm', messages }).catch(() => undefined);
    }
    // Both replicas read the stats both wrote, on their next poll: b's 100% errors take it to the 10% floor.
    await eventually(() => cluster.gateways.every((gateway) => gateway.cluster.snapshot().weights.get('b/m') === 0.1), 10_000, 'b at the floor on every replica');
    expect(cluster.gateways.every((gateway) => !gateway.cluster.snapshot().weights.has('a/m') || gateway.cluster.snapshot().weights.get('a/m') === 1)).toBe(true);
  });
});
