import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { RedisBreakerStore } from '@dosrouter/shared';
import { testRedis, type TestRedis } from '../../../shared/src/test-support/redis.js';
import { redisCircuitCloser } from './redis-circuit-closer.js';

let test: TestRedis;
beforeEach(async () => {
  test = await testRedis('circuit-closer');
});
afterEach(() => test.cleanup());

describe('redisCircuitCloser', () => {
  const open = (cause: 'errors' | 'rate_limit', openedAt?: number) =>
    new RedisBreakerStore(test.redis, test.redis, test.keys).publish({ deploymentId: 'a/m', state: 'open', durationMs: 60_000, replica: 'r1', cause, openedAt });

  it('closes a circuit errors opened before the probe started, trial included, and announces it', async () => {
    await open('errors', 1_000);
    await test.redis.set(test.keys.breakerTrial('a/m'), 'r2');
    expect(await redisCircuitCloser(test.redis, test.keys, 'prober-1')('a/m', 2_000)).toBe(true);
    expect(await test.redis.exists(test.keys.breaker('a/m'), test.keys.breakerTrial('a/m'))).toBe(0);
  });

  it('leaves open a circuit a backend’s 429 opened, and one that opened after the probe started', async () => {
    const close = redisCircuitCloser(test.redis, test.keys, 'prober-1');
    await open('rate_limit', 1_000);
    expect(await close('a/m', 2_000)).toBe(false);
    await open('errors', 3_000);
    expect(await close('a/m', 2_000)).toBe(false);
    expect(await test.redis.exists(test.keys.breaker('a/m'))).toBe(1);
  });

  it('has nothing to close when no circuit is open', async () => {
    expect(await redisCircuitCloser(test.redis, test.keys, 'prober-1')('a/m', Date.now())).toBe(false);
  });
});
