import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startSimulator, type Simulator } from '@dosrouter/provider-sim';
import { TEST_REDIS_URL } from '../../shared/src/test-support/redis.js';
import { PrivateRedisServer } from '../../shared/src/test-support/redis-server.js';
import { startClusterHarness, type ClusterHarness } from './test-support/cluster-harness.js';
import { eventually } from './test-support/harness.js';

describe('the response cache in cluster mode', () => {
  let simulator: Simulator;
  let cluster: ClusterHarness;
  beforeAll(async () => {
    simulator = await startSimulator({ models: [{ id: 'cached', outputTokens: 10 }] });
    cluster = await startClusterHarness({
      replicas: 2,
      redisUrl: TEST_REDIS_URL,
      document: {
        prober: { embedded: false },
        auth: { mode: 'open' },
        backends: [{ name: 'sim', baseUrl: simulator.baseUrl, models: [{ name: 'cached', capabilities: ['streaming'], pricing: { inputPerMTok: 1, outputPerMTok: 2 } }] }],
        cache: { enabled: true, models: ['cached'] },
      },
    });
  });
  afterAll(async () => {
    await cluster?.close();
    await simulator?.close();
  });

  const body = { model: 'cached', temperature: 0, messages: [{ role: 'user' as const, content: 'shared across replicas' }] };

  it('serves an answer one replica stored from another replica, to the same credential only', async () => {
    simulator.reset();
    const first = await cluster.client(0).chat.completions.create(body).withResponse();
    expect(first.response.headers.get('x-dosrouter-cache')).toBe('miss');
    const second = await cluster.client(1).chat.completions.create(body).withResponse();
    expect(second.response.headers.get('x-dosrouter-cache')).toBe('hit');
    expect(second.data).toEqual(first.data);
    const otherCredential = await cluster.client(1, { apiKey: 'client-key-2' }).chat.completions.create(body).withResponse();
    expect(otherCredential.response.headers.get('x-dosrouter-cache')).toBe('miss');
    expect(simulator.stats.requests).toBe(2);
  });

  it('flushes a model’s answers for every replica', async () => {
    simulator.reset();
    const flushBody = { ...body, messages: [{ role: 'user' as const, content: 'flushed' }] };
    await cluster.client(0).chat.completions.create(flushBody);
    // No admin key in this harness: flushed through the store the admin route calls.
    const { RedisCacheStore, RedisKeys, connectRedis } = await import('@dosrouter/shared');
    const redis = connectRedis({ url: TEST_REDIS_URL, commandTimeoutMs: 2_000 }, 'cache-flush-test');
    await redis.connect();
    try {
      expect(await new RedisCacheStore(redis, new RedisKeys(cluster.prefix), 1_000_000).flushModel('cached')).toBeGreaterThanOrEqual(1);
    } finally {
      redis.disconnect();
    }
    const after = await cluster.client(1).chat.completions.create(flushBody).withResponse();
    expect(after.response.headers.get('x-dosrouter-cache')).toBe('miss');
    expect(simulator.stats.requests).toBe(2);
  });
});

describe('the response cache when Redis stops', () => {
  it('serves every request from the backend as a miss, and caches again once Redis is back', async () => {
    const redis = await PrivateRedisServer.start();
    const simulator = await startSimulator({ models: [{ id: 'cached', outputTokens: 10 }] });
    let cluster: ClusterHarness | undefined;
    try {
      cluster = await startClusterHarness({
        replicas: 1,
        redisUrl: redis.url,
        document: {
          prober: { embedded: false },
          auth: { mode: 'open' },
          backends: [{ name: 'sim', baseUrl: simulator.baseUrl, models: [{ name: 'cached', capabilities: ['streaming'] }] }],
          cache: { enabled: true, models: ['cached'] },
        },
      });
      const client = cluster.client(0);
      const ask = async () => (await client.chat.completions.create({ model: 'cached', temperature: 0, messages: [{ role: 'user', content: 'redis stops' }] }).withResponse()).response.headers.get('x-dosrouter-cache');
      expect(await ask()).toBe('miss');
      expect(await ask()).toBe('hit');
      await redis.stop();
      for (let index = 0; index < 3; index += 1) expect(await ask()).toBe('miss');
      expect(simulator.stats.requests).toBe(4);
      await redis.start();
      await eventually(async () => (await ask()) === 'hit', 20_000, 'the cache in use again');
    } finally {
      await cluster?.gateways[0]?.close(1_000);
      await simulator.close();
      await redis.dispose();
    }
  });
});
