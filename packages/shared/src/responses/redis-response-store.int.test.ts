import { afterEach, describe, expect, it } from 'vitest';
import { describeResponseStoreContract, storedResponse } from '../test-support/response-store-contract.js';
import { testRedis, type TestRedis } from '../test-support/redis.js';
import { RedisResponseStore } from './redis-response-store.js';

describeResponseStoreContract('RedisResponseStore', async ({ ttlMs, maxBytesPerResponse }) => {
  const redis = await testRedis('responses');
  const store = new RedisResponseStore(redis.redis, redis.keys, { ttlMs, maxBytesPerResponse }, false);
  return { store, close: () => redis.cleanup() };
});

describe('RedisResponseStore in Redis', () => {
  let redis: TestRedis | undefined;
  afterEach(async () => {
    await redis?.cleanup();
    redis = undefined;
  });

  it('keeps each response under its key’s name, with the TTL set as it is written', async () => {
    redis = await testRedis('responses-layout');
    const store = new RedisResponseStore(redis.redis, redis.keys, { ttlMs: 3_600_000, maxBytesPerResponse: 65_536 }, false);
    await store.save(storedResponse('resp_layout', 'key_alice'));
    await store.save(storedResponse('resp_open', undefined));
    const names = (await redis.redis.keys(`${redis.prefix}:*`)).sort();
    expect(names).toEqual([`${redis.prefix}:v1:responses:-:resp_open`, `${redis.prefix}:v1:responses:key_alice:resp_layout`]);
    const ttl = await redis.redis.pttl(`${redis.prefix}:v1:responses:key_alice:resp_layout`);
    expect(ttl).toBeGreaterThan(3_500_000);
    expect(ttl).toBeLessThanOrEqual(3_600_000);
  });

  it('reads a document of an unknown version, or another key’s document under this name, as missing', async () => {
    redis = await testRedis('responses-foreign');
    const store = new RedisResponseStore(redis.redis, redis.keys, { ttlMs: 3_600_000, maxBytesPerResponse: 65_536 }, false);
    const name = redis.keys.storedResponse('key_alice', 'resp_foreign');
    await redis.redis.set(name, JSON.stringify({ v: 2, id: 'resp_foreign', key: 'key_alice' }));
    expect(await store.get('key_alice', 'resp_foreign')).toEqual({ found: false, reason: 'missing' });
    await store.save(storedResponse('resp_foreign', 'key_bob'));
    await redis.redis.copy(redis.keys.storedResponse('key_bob', 'resp_foreign'), name, 'REPLACE');
    expect(await store.get('key_alice', 'resp_foreign')).toEqual({ found: false, reason: 'missing' });
  });
});
