import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { eventually } from '../test-support/eventually.js';
import { PrivateRedisServer, freePort } from '../test-support/redis-server.js';
import { testRedis, type TestRedis } from '../test-support/redis.js';
import type { AdmissionRequest } from './limits.js';
import { LimiterFailedError, LimitsUnavailableError } from './limiter-errors.js';
import { MemoryLimiter } from './memory/memory-limiter.js';
import { RedisKeys } from './keys.js';
import { RedisHealth } from './redis-health.js';
import { connectRedis } from './redis/connection.js';
import { RedisLimiter } from './redis/redis-limiter.js';
import { ResilientLimiter, type ResilientLimiterOptions } from './resilient-limiter.js';

const request = (id: string, estimatedTokens = 1): AdmissionRequest => ({
  requestId: id,
  estimatedTokens,
  key: { id: 'key:k', limits: { requestsPerMinute: 6 } },
  deployments: [{ id: 'deployment:a', limits: {} }],
});
const options = (overrides: Partial<ResilientLimiterOptions> = {}): ResilientLimiterOptions => ({
  failMode: 'open',
  onTimeout: { rateLimits: 'local', budgets: 'refuse' },
  ...overrides,
});

describe('ResilientLimiter when Redis cannot be reached', () => {
  async function unreachable() {
    const redis = connectRedis({ url: `redis://127.0.0.1:${await freePort()}`, commandTimeoutMs: 100 }, 'test-unreachable');
    return { redis, primary: new RedisLimiter(redis, new RedisKeys('test-unreachable'), 30_000) };
  }

  it('fails open to this replica’s share of each limit and reports degraded once', async () => {
    const { redis, primary } = await unreachable();
    const health = new RedisHealth(Date.now);
    const changes: boolean[] = [];
    health.onChange((degraded) => changes.push(degraded));
    const limiter = new ResilientLimiter(primary, new MemoryLimiter(Date.now, () => 1 / 2), health, options());
    const results = [];
    for (let index = 0; index < 5; index += 1) results.push((await limiter.admit(request(`r${index}`))).admitted);
    expect(results).toEqual([true, true, true, false, false]);
    expect(health.degraded).toBe(true);
    expect(health.lastFailure).toBe('unavailable');
    expect(changes).toEqual([true]);
    redis.disconnect();
  });

  it('fails closed when configured to', async () => {
    const { redis, primary } = await unreachable();
    const limiter = new ResilientLimiter(primary, new MemoryLimiter(Date.now), new RedisHealth(Date.now), options({ failMode: 'closed' }));
    await expect(limiter.admit(request('r1'))).rejects.toBeInstanceOf(LimitsUnavailableError);
    redis.disconnect();
  });
});

describe('ResilientLimiter when a script refuses its arguments', () => {
  let test: TestRedis;
  beforeEach(async () => {
    test = await testRedis('resilient');
  });
  afterEach(() => test.cleanup());

  it('fails that request, reports the bug once a minute at most, and stays on Redis for the others', async () => {
    let now = 1_000;
    const reports: number[] = [];
    const health = new RedisHealth(() => now, 1_000, (_error, failures) => reports.push(failures));
    const changes: boolean[] = [];
    health.onChange((degraded) => changes.push(degraded));
    const limiter = new ResilientLimiter(new RedisLimiter(test.redis, test.keys, 30_000), new MemoryLimiter(() => now), health, options({ failMode: 'closed' }));
    for (const estimate of [1.5, -1000, Number.NaN, 0.25, 2 ** 60]) {
      await expect(limiter.admit(request(`bad-${estimate}`, estimate))).rejects.toBeInstanceOf(LimiterFailedError);
    }
    expect(reports).toEqual([1]);
    expect(health.degraded).toBe(false);
    expect(changes).toEqual([]);
    // Another key's request is admitted by Redis itself (fail closed would refuse it otherwise).
    expect(await limiter.admit({ ...request('good', 10), key: { id: 'key:other', limits: { requestsPerMinute: 6 } } })).toMatchObject({ admitted: true });
    expect(await test.redis.hgetall(test.keys.limitWindow('key:other'))).toMatchObject({ requests: '1', tokens: '10' });
    expect(await test.redis.exists(test.keys.limitWindow('key:k'))).toBe(0);
    now += 60_000;
    await expect(limiter.admit(request('bad-later', 0.5))).rejects.toBeInstanceOf(LimiterFailedError);
    expect(reports).toEqual([1, 5]);
  });
});

describe('ResilientLimiter when Redis answers too late', () => {
  let server: PrivateRedisServer;
  beforeAll(async () => {
    server = await PrivateRedisServer.start(['--enable-debug-command', 'local']);
  });
  afterAll(() => server?.dispose());

  let inspect: TestRedis;
  const connections: { disconnect(): void }[] = [];
  beforeEach(async () => {
    inspect = await testRedis('slow', server.url);
  });
  afterEach(async () => {
    for (const connection of connections.splice(0)) connection.disconnect();
    await inspect.cleanup();
  });

  /** A limiter whose Redis connection gives up after 100 ms; `inspect` reads the same keys without such a deadline. */
  async function slowRedis(settings: ResilientLimiterOptions) {
    const redis = connectRedis({ url: server.url, commandTimeoutMs: 100 }, 'test-slow');
    connections.push(redis);
    await redis.connect();
    const { keys } = inspect;
    // The health's clock stands still: the replica keeps skipping Redis after the timeout, however slow this machine.
    const health = new RedisHealth(() => 0);
    const limiter = new ResilientLimiter(new RedisLimiter(redis, keys, 30_000), new MemoryLimiter(Date.now, () => 1 / 3), health, settings);
    return {
      redis: inspect.redis,
      keys,
      health,
      limiter,
      /** Blocks Redis for a second: sent ahead of the admission on the same connection, so it runs first. */
      stall: () => void redis.call('DEBUG', 'SLEEP', '1').catch(() => undefined),
    };
  }

  it('with rate limits `local`: admits within the local share and cancels the admission Redis made late', async () => {
    const slow = await slowRedis(options());
    slow.stall();
    expect(await slow.limiter.admit(request('late-1'))).toMatchObject({ admitted: true });
    expect(slow.health).toMatchObject({ degraded: true, lastFailure: 'timeout' });
    // While the replica skips Redis, the local share (6 / 3 = 2) applies: one more, then refused.
    expect((await slow.limiter.admit(request('late-2'))).admitted).toBe(true);
    expect((await slow.limiter.admit(request('late-3'))).admitted).toBe(false);
    // Redis ran the admission after its timeout, then the cancel: nothing stays counted there.
    await eventually(async () => (await slow.redis.hget(slow.keys.admissionRecord('late-1'), '0')) === 'cancelled', 10_000);
    expect(await slow.redis.hget(slow.keys.limitWindow('key:k'), 'requests')).toBe('0');
  });

  it('with rate limits `refuse`: answers the timed-out request with LimitsUnavailableError, and Redis keeps no count', async () => {
    const slow = await slowRedis(options({ onTimeout: { rateLimits: 'refuse', budgets: 'refuse' } }));
    slow.stall();
    await expect(slow.limiter.admit(request('refused-1'))).rejects.toBeInstanceOf(LimitsUnavailableError);
    await eventually(async () => (await slow.redis.hget(slow.keys.admissionRecord('refused-1'), '0')) === 'cancelled', 10_000);
    expect(await slow.redis.hget(slow.keys.limitWindow('key:k'), 'requests')).toBe('0');
  });

  it('refuses a request with a budget by default, even when rate limits are counted locally', async () => {
    const slow = await slowRedis(options());
    slow.stall();
    const budget = { keyId: 'k', dailyNanoUsd: 1_000_000, monthlyNanoUsd: -1, day: '2026-12-05', month: '2026-12' };
    await expect(slow.limiter.admit({ ...request('budgeted'), budget })).rejects.toBeInstanceOf(LimitsUnavailableError);
    // Without a budget, the same moment's request is counted locally.
    expect((await slow.limiter.admit(request('unbudgeted'))).admitted).toBe(true);
  });
});
