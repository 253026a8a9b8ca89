import OpenAI from 'openai';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eventually, startTestCluster, type TestCluster } from './support/test-cluster.js';

/** The backend takes 8 s to answer: long enough, on a busy machine, to kill the leader's replica while its request waits there. */
const MODEL = { id: 'slow', headersDelayMs: 8_000, outputTokens: 12 };

describe('in-flight de-duplication when the leader’s replica is killed', () => {
  let cluster: TestCluster;
  let redis: Redis;
  beforeAll(async () => {
    cluster = await startTestCluster({
      models: [MODEL],
      replicas: 3,
      configure: (config) => {
        // A short lock: the dead leader's followers notice within about 2 s (plus one block of the reader).
        config.cache = { enabled: true, models: ['slow'], scope: 'shared', dedupe: { lockTtlMs: 2_000 } };
      },
    });
    redis = new Redis(cluster.cluster.redis!.url, { lazyConnect: true });
    await redis.connect();
  });
  afterAll(async () => {
    redis?.disconnect();
    await cluster?.close();
  });

  it('gives the followers on the other replicas an answer: one of them asks the backend itself', async () => {
    const [leaderReplica, ...others] = cluster.cluster.replicas;
    const clientOf = (url: string) => new OpenAI({ apiKey: 'k', baseURL: `${url}/v1`, maxRetries: 0, timeout: 60_000 });
    const body = { model: 'slow', temperature: 0, messages: [{ role: 'user' as const, content: 'who answers?' }] };
    const leader = clientOf(leaderReplica!.url).chat.completions.create(body).then(
      () => 'answered',
      () => 'failed',
    );
    await eventually(async () => (await cluster.simulatorStats()).requests === 1, 15_000, 'the leader’s request at the backend');
    const followers = others.flatMap((replica) => [0, 1].map(() => clientOf(replica.url).chat.completions.create(body)));
    // Each other replica reads the leader's flight on a connection of its own: both are following.
    await eventually(
      async () => {
        const clients = await redis.call('CLIENT', 'LIST');
        return others.every((replica) => String(clients).includes(`name=dosrouter-gateway-${replica.id}-flight`));
      },
      15_000,
      'the followers reading the leader’s flight',
    );
    // Still waiting on the backend: the leader has not answered (its answer would have been stored, not shared).
    expect((await cluster.simulatorStats()).completed).toBe(0);
    await cluster.cluster.killReplica(0);
    expect(await leader).toBe('failed');
    const answers = await Promise.all(followers);
    expect(new Set(answers.map((answer) => answer.choices[0]?.message.content)).size).toBe(1);
    expect(answers[0]!.choices[0]?.message.content?.length).toBeGreaterThan(0);
    // The dead leader's request, and one follower's that took over: the other followers shared it.
    expect((await cluster.simulatorStats()).requests).toBe(2);
  }, 90_000);
});
