import { describe, expect, it } from 'vitest';
import { freePort } from '../test-support/redis-server.js';
import { MemoryLimiter } from './memory/memory-limiter.js';
import { RedisKeys } from './keys.js';
import { RedisHealth } from './redis-health.js';
import { connectRedis } from './redis/connection.js';
import { RedisLimiter } from './redis/redis-limiter.js';
import { LimitsUnavailableError, ResilientLimiter } from './resilient-limiter.js';

describe('ResilientLimiter when Redis cannot be reached', () => {
  const request = (id: string) => ({ requestId: id, estimatedTokens: 1, key: { id: 'key:k', limits: { requestsPerMinute: 6 } }, deployments: [{ id: 'deployment:a', limits: {} }] });

  async function unreachable() {
    const redis = connectRedis({ url: `redis://127.0.0.1:${await freePort()}`, commandTimeoutMs: 100 }, 'test-unreachable');
    return { redis, primary: new RedisLimiter(redis, new RedisKeys('test-unreachable'), 30_000) };
  }

  it('fails open to this replica’s share of each limit and reports degraded once', async () => {
    const { redis, primary } = await unreachable();
    const health = new RedisHealth(Date.now);
    const changes: boolean[] = [];
    health.onChange((degraded) => changes.push(degraded));
    const limiter = new ResilientLimiter(primary, new MemoryLimiter(Date.now, () => 1 / 2), health, 'open');
    const results = [];
    for (let index = 0; index < 5; index += 1) results.push((await limiter.admit(request(`r${index}`))).admitted);
    expect(results).toEqual([true, true, true, false, false]);
    expect(health.degraded).toBe(true);
    expect(changes).toEqual([true]);
    redis.disconnect();
  });

  it('fails closed when configured to', async () => {
    const { redis, primary } = await unreachable();
    const limiter = new ResilientLimiter(primary, new MemoryLimiter(Date.now), new RedisHealth(Date.now), 'closed');
    await expect(limiter.admit(request('r1'))).rejects.toBeInstanceOf(LimitsUnavailableError);
    redis.disconnect();
  });
});
