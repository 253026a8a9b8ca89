import OpenAI from 'openai';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { startSimulator } from '@dosrouter/provider-sim';
import { RedisHealth, RedisKeys, connectRedis, type Deployment } from '@dosrouter/shared';
import { TEST_REDIS_URL, testRedis, type TestRedis } from '../../../shared/src/test-support/redis.js';
import { startClusterHarness, type ClusterHarness } from '../test-support/cluster-harness.js';
import { eventually } from '../test-support/harness.js';
import { HoldingBackend } from '../test-support/holding-backend.js';
import { RedisDeploymentSlots } from './deployment-slots.js';

describe('shareDeploymentSlots.lua', () => {
  let redis: TestRedis;
  beforeAll(async () => {
    redis = await testRedis('deployment-slots');
  });
  afterAll(async () => {
    await redis?.cleanup();
  });

  const STALE_MS = 3_000;
  let now = 1_000_000;
  /** One call as replica `replica`; returns [taken, held cluster-wide]. */
  const call = async (replica: string, operation: string, waiting = 0, held = 0, limit = 2): Promise<[number, number]> =>
    (await redis.redis.dosrouterShareDeploymentSlotsV1(2, redis.keys.deploymentSlots('d'), redis.keys.replicas(), replica, limit, now, STALE_MS, operation, waiting, held)) as [number, number];
  const beat = async (...replicas: string[]): Promise<void> => {
    for (const replica of replicas) await redis.redis.zadd(redis.keys.replicas(), now, replica);
  };

  it('takes a slot only under the limit, counting every live replica, and gives it back', async () => {
    await beat('a', 'b');
    expect(await call('a', 'take')).toEqual([1, 1]);
    expect(await call('b', 'take')).toEqual([1, 2]);
    expect(await call('a', 'take')).toEqual([0, 2]);
    expect(await call('b', 'give')).toEqual([0, 0]);
    expect(await call('a', 'take')).toEqual([1, 2]);
    // Restated counts replace what Redis had (a give that was lost).
    expect(await call('a', 'set', 0, 0)).toEqual([0, 0]);
    expect(await call('b', 'take')).toEqual([1, 1]);
    await call('b', 'set', 0, 0);
  });

  it("frees a dead replica's slots once its heartbeat is stale", async () => {
    await beat('a', 'b');
    await call('a', 'take');
    await call('a', 'take');
    expect(await call('b', 'take')).toEqual([0, 2]);
    now += STALE_MS + 1;
    await beat('b');
    expect(await call('b', 'take')).toEqual([1, 1]);
    expect(await redis.redis.hexists(redis.keys.deploymentSlots('d'), 'h:a')).toBe(0);
    await call('b', 'set', 0, 0);
  });

  it('shares the slots among the replicas that have waiters: one holding its share passes a freed slot back', async () => {
    await beat('a', 'b');
    await call('a', 'take', 0, 0, 4);
    await call('a', 'take', 0, 0, 4);
    await call('a', 'take', 0, 0, 4);
    await call('a', 'take', 0, 0, 4);
    // b waits and is refused: the deployment is full.
    expect(await call('b', 'take', 1, 0, 4)).toEqual([0, 4]);
    // a, with waiters of its own, frees one: with b waiting, a's share is 2 of 4, so the slot is not passed on.
    expect(await call('a', 'pass', 5, 0, 4)).toEqual([0, 3]);
    expect(await call('b', 'take', 1, 0, 4)).toEqual([1, 4]);
    await call('a', 'set', 0, 0, 4);
    await call('b', 'set', 0, 0, 4);
  });

  it('refuses malformed arguments before touching a key', async () => {
    await expect(call('a', 'steal')).rejects.toThrow(/BADARG operation/);
    await expect(call('', 'take')).rejects.toThrow(/BADARG/);
    await expect(call('a', 'take', 0, 0, 0)).rejects.toThrow(/BADARG limit/);
  });
});

describe('RedisDeploymentSlots', () => {
  const deployment = { id: 'b/m' } as Deployment;

  it("restates this replica's true count every interval, repairing a count Redis got wrong", async () => {
    const redis = await testRedis('deployment-slots-restate');
    try {
      await redis.redis.zadd(redis.keys.replicas(), Date.now() + 60_000, 'replica-1');
      const slots = new RedisDeploymentSlots({ redis: redis.redis, keys: redis.keys, replica: 'replica-1', intervalMs: 50, replicas: () => 1 });
      const pool = slots.poolFor(deployment, 3);
      expect(await pool.take(0)).toBe(true);
      // A give that never reached Redis, say: Redis believes this replica holds 3.
      await redis.redis.hset(redis.keys.deploymentSlots('b/m'), 'h:replica-1', 3);
      await eventually(async () => (await redis.redis.hget(redis.keys.deploymentSlots('b/m'), 'h:replica-1')) === '1', 5_000);
      pool.give(0);
      await slots.close();
      expect(await redis.redis.hget(redis.keys.deploymentSlots('b/m'), 'h:replica-1')).toBe('0');
    } finally {
      await redis.cleanup();
    }
  });

  it('holds at most its share of the limit (the limit over the live replicas) while Redis fails', async () => {
    const unreachable = connectRedis({ url: 'redis://127.0.0.1:1', commandTimeoutMs: 250 }, 'dosrouter-test-unreachable');
    const health = new RedisHealth(Date.now, 60_000);
    const slots = new RedisDeploymentSlots({ redis: unreachable, keys: new RedisKeys('test-unreachable'), replica: 'replica-1', intervalMs: 60_000, replicas: () => 2, health });
    const pool = slots.poolFor(deployment, 4);
    expect(await pool.take(0)).toBe(true);
    // The failure is reported: later takes skip Redis and answer at once, from this replica's share.
    expect(health.degraded).toBe(true);
    expect([pool.take(0), pool.take(0)]).toEqual([true, false]);
    pool.give(0);
    expect(await pool.take(0)).toBe(true);
    expect(pool.active).toBe(2);
    await slots.close();
    unreachable.disconnect();
  });
});

describe('maxConcurrent across two gateway replicas sharing Redis', () => {
  const MODEL = 'held-model';
  let backend: HoldingBackend;
  let cluster: ClusterHarness;
  beforeAll(async () => {
    backend = new HoldingBackend(MODEL);
    const baseUrl = await backend.listen();
    cluster = await startClusterHarness({
      replicas: 2,
      redisUrl: TEST_REDIS_URL,
      document: {
        logging: { level: 'info' },
        redis: { commandTimeoutMs: 5_000, pollIntervalMs: 200 },
        saturation: { queueTimeoutMs: 30_000 },
        prober: { embedded: false },
        backends: [{ name: 'held', baseUrl, models: [{ name: MODEL, maxConcurrent: 3 }] }],
      },
    });
  });
  afterAll(async () => {
    await cluster?.close();
    await backend?.close();
  });
  afterEach(() => backend.release());

  const ask = (replica: number, tag: string) => cluster.client(replica).chat.completions.create({ model: MODEL, messages: [{ role: 'user', content: tag }] });

  async function waitingOn(replica: number): Promise<number> {
    const scrape = await fetch(`${cluster.gateways[replica]!.url}/metrics`).then((response) => response.text());
    return Number(/dosrouter_deployment_saturation_requests\{deployment="held\/held-model",state="waiting"\} (\d+)/.exec(scrape)?.[1] ?? NaN);
  }

  it('never sends the deployment more than its limit in all, and lets the waiters of both replicas through as slots free', async () => {
    const answers: Promise<OpenAI.ChatCompletion>[] = [];
    for (let index = 0; index < 10; index += 1) answers.push(ask(index % 2, `request ${index}`));
    await eventually(() => backend.held.length === 3, 10_000);
    await eventually(async () => (await waitingOn(0)) + (await waitingOn(1)) === 7, 10_000);
    expect(backend.held).toHaveLength(3);
    // One at a time: every freed slot goes to a waiter of one replica or the other, and the total stays at 3.
    while (backend.received < 10) {
      const before = backend.received;
      backend.release(1);
      await eventually(() => backend.received === before + 1, 10_000);
      expect(backend.held.length).toBeLessThanOrEqual(3);
    }
    backend.release();
    const all = await Promise.all(answers);
    expect(all.every((answer) => answer.choices[0]!.message.content === 'released')).toBe(true);
    expect(backend.mostHeld).toBe(3);
    // The waiters of both replicas got slots (neither kept every freed slot to itself).
    const later = backend.bodies.slice(3).map((body) => Number(/\d+/.exec((body.messages as { content: string }[])[0]!.content)![0]) % 2);
    expect(new Set(later)).toEqual(new Set([0, 1]));
    expect(cluster.gateways.every((gateway) => gateway.cluster.breakers.states().get(`held/${MODEL}`) === 'closed')).toBe(true);
  });
});

describe('a burst of streams at twice a deployment limit, across two replicas, against the simulator', () => {
  it('streams every answer whole, never more than the limit at the simulator at once, and opens no circuit', async () => {
    const simulator = await startSimulator({ models: [{ id: 'streamed', outputTokens: 20, interTokenDelayMs: 15 }] });
    const cluster = await startClusterHarness({
      replicas: 2,
      redisUrl: TEST_REDIS_URL,
      document: {
        logging: { level: 'info' },
        redis: { commandTimeoutMs: 5_000, pollIntervalMs: 200 },
        saturation: { queueTimeoutMs: 30_000 },
        prober: { embedded: false },
        backends: [{ name: 'sim', baseUrl: simulator.baseUrl, models: [{ name: 'streamed', maxConcurrent: 4 }] }],
      },
    });
    try {
      let most = 0;
      const sampler = setInterval(() => {
        const { requests, completed, aborted } = simulator.stats;
        most = Math.max(most, requests - completed - aborted);
      }, 5);
      const streams = Array.from({ length: 8 }, async (_, index) => {
        const stream = await cluster.client(index % 2).chat.completions.create({ model: 'streamed', stream: true, messages: [{ role: 'user', content: `stream ${index}` }] });
        let tokens = 0;
        let finish: string | null | undefined;
        for await (const chunk of stream) {
          if (chunk.choices[0]?.delta.content) tokens += 1;
          finish = chunk.choices[0]?.finish_reason ?? finish;
        }
        return { tokens, finish };
      });
      const results = await Promise.all(streams);
      clearInterval(sampler);
      expect(results.every((result) => result.tokens >= 20 && result.finish === 'stop')).toBe(true);
      expect(most).toBeLessThanOrEqual(4);
      expect(simulator.stats.requests).toBe(8);
      expect(cluster.gateways.every((gateway) => gateway.cluster.breakers.states().get('sim/streamed') === 'closed')).toBe(true);
      // At least four of them waited for a slot, and their access lines say how long.
      await eventually(() => cluster.logs.flatMap((logs) => logs.accessLines()).length === 8);
      const lines = cluster.logs.flatMap((logs) => logs.accessLines());
      expect(lines.filter((line) => typeof line.queueWaitMs === 'number').length).toBeGreaterThanOrEqual(4);
    } finally {
      await cluster.close();
      await simulator.close();
    }
  });
});
