import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { testRedis, type TestRedis } from '../../test-support/redis.js';
import { RedisStats } from './redis-stats.js';

describe('rolling stats in Redis (the readStats script)', () => {
  let test: TestRedis;
  beforeEach(async () => {
    test = await testRedis('stats');
  });
  afterEach(() => test.cleanup());

  it('sums what several replicas wrote, per deployment', async () => {
    const replicaA = new RedisStats(test.redis, test.keys);
    const replicaB = new RedisStats(test.redis, test.keys);
    replicaA.record('sim/a', { ok: true, latencyMs: 100, ttftMs: 20, outputTokens: 50, generationMs: 500 });
    replicaA.record('sim/a', { ok: false, latencyMs: 300 });
    replicaB.record('sim/a', { ok: true, latencyMs: 200, ttftMs: 40, outputTokens: 50, generationMs: 500 });
    replicaB.record('sim/b', { ok: true, latencyMs: 10, queueWaitMs: 40, costUsd: 0.002 });
    expect((await replicaB.read(['sim/a'], 60_000)).get('sim/a')?.requests).toBe(0);
    await Promise.all([replicaA.flush(), replicaB.flush()]);
    const stats = await replicaB.read(['sim/a', 'sim/b', 'sim/none'], 60_000);
    expect(stats.get('sim/a')).toEqual({ requests: 3, errorRate: 1 / 3, meanLatencyMs: 200, meanTtftMs: 30, ttftPercentilesMs: { p50: 50, p90: 50, p95: 50, p99: 50 }, tokensPerSecond: 100, latencyPercentilesMs: { p50: 200, p99: 500 } });
    expect(stats.get('sim/b')).toMatchObject({ requests: 1, errorRate: 0, meanLatencyMs: 10, queueWait: { meanMs: 40, requests: 1 }, costUsd: 0.002 });
    expect(stats.get('sim/none')).toEqual({ requests: 0, errorRate: 0, meanLatencyMs: undefined, meanTtftMs: undefined, tokensPerSecond: undefined });
  });

  it('gives every bucket a TTL past the horizon', async () => {
    const stats = new RedisStats(test.redis, test.keys, () => 1_700_000_005_000);
    stats.record('sim/a', { ok: true, latencyMs: 1 });
    await stats.flush();
    const ttl = await test.redis.pttl(test.keys.statsBucket('sim/a', 1_700_000_000_000));
    expect(ttl).toBeGreaterThan(300_000);
    expect(ttl).toBeLessThanOrEqual(310_000);
  });
});
