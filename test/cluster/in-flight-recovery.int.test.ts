import OpenAI from 'openai';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestCluster, type TestCluster } from './support/test-cluster.js';

const POLL_MS = 200;

describe('in-flight counts when a replica dies', () => {
  let cluster: TestCluster;
  let redis: Redis;
  beforeAll(async () => {
    cluster = await startTestCluster({
      models: [{ id: 'slow', interTokenDelayMs: 100, outputTokens: 100 }],
      replicas: 2,
      configure: (config) => {
        config.redis = { ...(config.redis as object | undefined), pollIntervalMs: POLL_MS };
      },
    });
    redis = new Redis(cluster.cluster.redis!.url, { lazyConnect: true });
    await redis.connect();
  });
  afterAll(async () => {
    redis?.disconnect();
    await cluster?.close();
  });

  it('are published while a stream runs and vanish within three poll intervals of the replica being killed', async () => {
    const replica = cluster.cluster.replicas[0]!;
    const inFlightKey = `${cluster.redisPrefix}:v1:{replicas}:inflight:${replica.id}`;
    const client = new OpenAI({ apiKey: 'k', baseURL: `${replica.url}/v1`, maxRetries: 0 });
    const stream = await client.chat.completions.create({ model: 'slow', messages: [{ role: 'user', content: 'go' }], stream: true });
    const reading = (async () => {
      for await (const chunk of stream) void chunk;
    })().catch(() => undefined);

    const published = Date.now() + 3_000;
    while (Object.values(await redis.hgetall(inFlightKey)).join() !== '1') {
      if (Date.now() > published) throw new Error('the stream was never counted in flight');
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    expect(await redis.zscore(`${cluster.redisPrefix}:v1:{replicas}:live`, replica.id)).not.toBeNull();

    await cluster.cluster.killReplica(0);
    const killedAt = Date.now();
    while ((await redis.exists(inFlightKey)) === 1) {
      if (Date.now() - killedAt > 3 * POLL_MS + 500) throw new Error('the dead replica’s in-flight count is stuck');
      await new Promise((resolve) => setTimeout(resolve, 25));
    }
    expect(Date.now() - killedAt).toBeLessThanOrEqual(3 * POLL_MS + 500);
    await reading;
    // The survivor's next polls drop the dead replica from the live set too.
    const dropped = Date.now() + 3_000;
    while ((await redis.zscore(`${cluster.redisPrefix}:v1:{replicas}:live`, replica.id)) !== null) {
      if (Date.now() > dropped) throw new Error('the dead replica is still listed as live');
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  });
});
