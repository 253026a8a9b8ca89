import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startSimulator, type Simulator } from '@dosrouter/provider-sim';
import { PrivateRedisServer } from '../../../shared/src/test-support/redis-server.js';
import { startClusterHarness, type ClusterHarness } from '../test-support/cluster-harness.js';
import { eventually } from '../test-support/harness.js';

const messages = [{ role: 'user' as const, content: 'Are you there?' }];

async function metric(cluster: ClusterHarness, replica: number, name: string): Promise<string | undefined> {
  const text = await cluster.gateways[replica]!.metrics.registry.metrics();
  return new RegExp(`^${name} (\\S+)$`, 'm').exec(text)?.[1];
}

describe('when Redis goes down under load and comes back', () => {
  let redisServer: PrivateRedisServer;
  let simulator: Simulator;
  let cluster: ClusterHarness;

  beforeAll(async () => {
    redisServer = await PrivateRedisServer.start();
    simulator = await startSimulator({ models: [{ id: 'm' }] });
    cluster = await startClusterHarness({
      replicas: 2,
      redisUrl: redisServer.url,
      document: {
        // An outage shows as connection errors at once; a deadline a busy machine cannot miss keeps slowness (tested
        // in slow-redis-limits.int.test.ts) from adding degraded episodes of its own before the stop.
        redis: { pollIntervalMs: 200, commandTimeoutMs: 2_000 },
        limits: { perKey: { requestsPerMinute: 10_000 } },
        backends: [{ name: 'sim', baseUrl: simulator.baseUrl, models: [{ name: 'm' }] }],
      },
    });
  });
  afterAll(async () => {
    await cluster?.close();
    await simulator?.close();
    await redisServer?.dispose();
  });

  it('keeps serving on the last snapshot, says it is degraded, and resyncs when Redis returns', async () => {
    const send = async (count: number) => {
      const results = await Promise.allSettled(
        Array.from({ length: count }, (_, index) => cluster.client(index % 2).chat.completions.create({ model: 'm', messages })),
      );
      return results.filter((result) => result.status === 'fulfilled').length;
    };
    expect(await send(20)).toBe(20);
    // Not degraded before the outage. On a busy machine a command can outlast the 100 ms timeout and mark it degraded
    // for a moment: what counts is that the next successful poll clears it.
    await eventually(async () => (await metric(cluster, 0, 'dosrouter_redis_degraded')) !== '1', 10_000, 'not degraded before the outage');

    const linesBeforeOutage = cluster.logs[0]!.lines.length;
    await redisServer.stop();
    expect(await send(40)).toBe(40);
    await eventually(async () => (await metric(cluster, 0, 'dosrouter_redis_degraded')) === '1', 10_000);
    // Said once for the whole outage, not once per failed command.
    expect(cluster.logs[0]!.lines.slice(linesBeforeOutage).filter((line) => String(line.message).startsWith('degraded'))).toHaveLength(1);
    expect(await send(20)).toBe(20);

    await redisServer.start();
    await eventually(async () => (await metric(cluster, 0, 'dosrouter_redis_degraded')) === '0' && (await metric(cluster, 1, 'dosrouter_redis_degraded')) === '0', 10_000);
    expect(cluster.logs[0]!.lines.some((line) => line.message === 'Redis is back: shared state resynced')).toBe(true);
    expect(await send(10)).toBe(10);
    await eventually(() => cluster.gateways[1]!.cluster.snapshot().replicas === 2, 10_000);
  });
});
