import OpenAI from 'openai';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eventually, startTestCluster, type TestCluster } from './support/test-cluster.js';

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

    await eventually(async () => Object.values(await redis.hgetall(inFlightKey)).join() === '1', 15_000, 'the stream counted in flight');
    expect(await redis.zscore(`${cluster.redisPrefix}:v1:{replicas}:live`, replica.id)).not.toBeNull();

    await cluster.cluster.killReplica(0);
    // Dead, the replica renews nothing: what is left of its count expires with the TTL each poll set, three poll
    // intervals. Checked on Redis's own clock (PTTL), not by timing the wait on a busy machine.
    const remainingMs = await redis.pttl(inFlightKey);
    expect(remainingMs).toBeLessThanOrEqual(3 * POLL_MS);
    await eventually(async () => (await redis.exists(inFlightKey)) === 0, 15_000, 'the dead replica’s in-flight count gone');
    await reading;
    // The survivor's next polls drop the dead replica from the live set too.
    await eventually(async () => (await redis.zscore(`${cluster.redisPrefix}:v1:{replicas}:live`, replica.id)) === null, 15_000, 'the dead replica out of the live set');
  });
});
