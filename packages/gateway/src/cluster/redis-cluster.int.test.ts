import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startSimulator, type Simulator } from '@dosrouter/provider-sim';
import { PrivateRedisCluster } from '../../../shared/src/test-support/redis-server.js';
import { startClusterHarness, type ClusterHarness } from '../test-support/cluster-harness.js';
import { eventually } from '../test-support/harness.js';

const messages = [{ role: 'user' as const, content: 'hello' }];

describe('on a Redis Cluster (three masters)', () => {
  let redisCluster: PrivateRedisCluster;
  let good: Simulator;
  let bad: Simulator;
  let gateways: ClusterHarness;

  beforeAll(async () => {
    redisCluster = await PrivateRedisCluster.start();
    good = await startSimulator({ models: [{ id: 'm' }] });
    bad = await startSimulator({ models: [{ id: 'm', faultRates: { server_error: 1 } }] });
    gateways = await startClusterHarness({
      replicas: 2,
      redisUrl: redisCluster.nodes[0]!.url,
      document: {
        redis: { clusterNodes: redisCluster.startupNodes, pollIntervalMs: 250 },
        limits: { perKey: { requestsPerMinute: 6, concurrency: 4 } },
        breakers: { volumeThreshold: 2, cooldownMs: 60_000 },
        backends: [
          { name: 'good', baseUrl: good.baseUrl, models: [{ name: 'm' }, { name: 'flaky', upstreamModel: 'm' }] },
          { name: 'bad', baseUrl: bad.baseUrl, models: [{ name: 'flaky', upstreamModel: 'm', weight: 1000 }] },
        ],
      },
    });
  });
  afterAll(async () => {
    await gateways?.close();
    await good?.close();
    await bad?.close();
    await redisCluster?.dispose();
  });

  it('shares limits, circuits, stats and replicas through the cluster', async () => {
    const statuses = [];
    for (let index = 0; index < 8; index += 1) {
      statuses.push(await gateways.client(index % 2).chat.completions.create({ model: 'm', messages }).then(() => 200, (error: { status: number }) => error.status));
    }
    expect(statuses).toEqual([200, 200, 200, 200, 200, 200, 429, 429]);

    const other = gateways.client(0, { apiKey: 'second-key' });
    for (let index = 0; index < 3; index += 1) await other.chat.completions.create({ model: 'flaky', messages });
    expect(gateways.gateways[0]!.cluster.breakers.isOpen('bad/flaky')).toBe(true);
    await eventually(() => gateways.gateways[1]!.cluster.breakers.isOpen('bad/flaky'), 10_000);

    await eventually(() => gateways.gateways[1]!.cluster.snapshot().replicas === 2, 10_000);
    await eventually(() => (gateways.gateways[1]!.cluster.snapshot().stats.get('good/m')?.requests ?? 0) >= 6, 10_000);
    // Not degraded: a command that outlasts the 250 ms timeout on a busy machine marks a replica degraded until its next
    // successful poll, which must come.
    await eventually(() => gateways.gateways.every((gateway) => gateway.cluster.health?.degraded === false), 10_000, 'no replica degraded');
  });
});
