import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startSimulator, type Simulator } from '@dosrouter/provider-sim';
import { PrivateRedisServer } from '../../../shared/src/test-support/redis-server.js';
import { startClusterHarness } from '../test-support/cluster-harness.js';
import { eventually } from '../test-support/harness.js';

const messages = [{ role: 'user' as const, content: 'hello' }];

describe('connecting to Redis', () => {
  let simulator: Simulator;
  const backends = () => [{ name: 'sim', baseUrl: simulator.baseUrl, models: [{ name: 'm' }] }];
  beforeAll(async () => {
    simulator = await startSimulator({ models: [{ id: 'm' }] });
  });
  afterAll(() => simulator.close());

  describe('with a password', () => {
    let redis: PrivateRedisServer;
    beforeAll(async () => {
      redis = await PrivateRedisServer.start(['--requirepass', 'hunter2-redis']);
    });
    afterAll(() => redis.dispose());

    it('shares its limits through the password-protected Redis', async () => {
      const cluster = await startClusterHarness({
        replicas: 2,
        redisUrl: `redis://:hunter2-redis@127.0.0.1:${redis.port}`,
        document: { limits: { perKey: { requestsPerMinute: 3 } }, backends: backends() },
      });
      try {
        const statuses = [];
        for (let index = 0; index < 5; index += 1) {
          statuses.push(await cluster.client(index % 2).chat.completions.create({ model: 'm', messages }).then(() => 200, (error: { status: number }) => error.status));
        }
        expect(statuses).toEqual([200, 200, 200, 429, 429]);
        expect(cluster.gateways[0]!.cluster.health?.degraded).toBe(false);
      } finally {
        await cluster.close();
      }
    });

    it('with the wrong password, serves in degraded mode and never logs the password', async () => {
      const cluster = await startClusterHarness({
        replicas: 1,
        redisUrl: `redis://:wrong-password-7@127.0.0.1:${redis.port}`,
        document: { limits: { perKey: { requestsPerMinute: 100 } }, backends: backends() },
      });
      try {
        const completion = await cluster.client(0).chat.completions.create({ model: 'm', messages });
        expect(completion.choices).toHaveLength(1);
        await eventually(() => cluster.gateways[0]!.cluster.health?.degraded === true, 10_000);
        expect(JSON.stringify(cluster.logs[0]!.lines)).not.toContain('wrong-password-7');
      } finally {
        await cluster.close();
      }
    });
  });

  describe('through Redis Sentinel', () => {
    let master: PrivateRedisServer;
    let sentinel: PrivateRedisServer;
    beforeAll(async () => {
      master = await PrivateRedisServer.start();
      sentinel = await PrivateRedisServer.startSentinel(master, 'dosrouter-test');
    });
    afterAll(async () => {
      await sentinel.dispose();
      await master.dispose();
    });

    it('finds the master through the sentinel and shares state there', async () => {
      const cluster = await startClusterHarness({
        replicas: 2,
        redisUrl: master.url,
        document: {
          redis: { sentinels: [{ host: '127.0.0.1', port: sentinel.port }], sentinelMasterName: 'dosrouter-test' },
          limits: { perKey: { requestsPerMinute: 2 } },
          backends: backends(),
        },
      });
      try {
        const statuses = [];
        for (let index = 0; index < 3; index += 1) {
          statuses.push(await cluster.client(index % 2).chat.completions.create({ model: 'm', messages }).then(() => 200, (error: { status: number }) => error.status));
        }
        expect(statuses).toEqual([200, 200, 429]);
      } finally {
        await cluster.close();
      }
    });
  });
});
