import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { testRedis, type TestRedis } from '../../test-support/redis.js';
import { MemoryCacheStore } from '../memory/memory-cache-store.js';
import type { CacheStore } from '../cache-store.js';
import { RedisCacheStore } from './redis-cache-store.js';

const value = (bytes: number, tag: string) => tag + 'x'.repeat(bytes - tag.length);

describe.each(['redis', 'memory'] as const)('the response cache store (%s)', (kind) => {
  let redis: TestRedis;
  let now = 1_000_000;
  let store: CacheStore;
  const make = (maxBytes: number): CacheStore => (kind === 'redis' ? new RedisCacheStore(redis.redis, redis.keys, maxBytes, () => now) : new MemoryCacheStore(maxBytes, () => now));
  beforeEach(async () => {
    redis = await testRedis('cache-store');
    now = 1_000_000;
    store = make(1_000);
  });
  afterEach(() => redis.cleanup());

  it('returns what was stored, until its TTL ends', async () => {
    await store.put({ hash: 'a', model: 'm', value: value(100, 'a'), ttlMs: 60_000 });
    expect(await store.get('a')).toBe(value(100, 'a'));
    expect(await store.get('b')).toBeUndefined();
    if (kind === 'redis') {
      // Redis expires by its own clock: a short TTL, polled.
      await store.put({ hash: 'short', model: 'm', value: 'v', ttlMs: 50 });
      const deadline = Date.now() + 5_000;
      while ((await store.get('short')) !== undefined && Date.now() < deadline) await new Promise((resolve) => setImmediate(resolve));
      expect(await store.get('short')).toBeUndefined();
    } else {
      now += 60_001;
      expect(await store.get('a')).toBeUndefined();
    }
  });

  it('evicts the least recently used answers past the budget, and refuses one larger than it', async () => {
    for (const hash of ['a', 'b', 'c']) {
      await store.put({ hash, model: 'm', value: value(300, hash), ttlMs: 60_000 });
      now += 1;
    }
    now += 1;
    expect(await store.get('a')).toBeDefined(); // a is now more recent than b
    now += 1;
    const result = await store.put({ hash: 'd', model: 'm', value: value(300, 'd'), ttlMs: 60_000 });
    expect(result).toEqual({ stored: true, evicted: 1, bytes: 900 });
    expect(await store.get('b')).toBeUndefined();
    for (const hash of ['a', 'c', 'd']) expect(await store.get(hash)).toBeDefined();
    expect(await store.put({ hash: 'huge', model: 'm', value: value(1_001, 'h'), ttlMs: 60_000 })).toMatchObject({ stored: false });
  });

  it('counts a replaced answer once', async () => {
    await store.put({ hash: 'a', model: 'm', value: value(400, 'a'), ttlMs: 60_000 });
    const result = await store.put({ hash: 'a', model: 'm', value: value(500, 'a'), ttlMs: 60_000 });
    expect(result).toEqual({ stored: true, evicted: 0, bytes: 500 });
  });

  it('flushes one model’s answers and keeps the others', async () => {
    await store.put({ hash: 'a', model: 'one', value: 'a', ttlMs: 60_000 });
    await store.put({ hash: 'b', model: 'one', value: 'b', ttlMs: 60_000 });
    await store.put({ hash: 'c', model: 'two', value: 'c', ttlMs: 60_000 });
    expect(await store.flushModel('one')).toBe(2);
    expect(await store.get('a')).toBeUndefined();
    expect(await store.get('c')).toBe('c');
    expect((await store.put({ hash: 'd', model: 'two', value: 'd', ttlMs: 60_000 })).bytes).toBe(2);
  });

  if (kind === 'redis') {
    it('sweeps expired answers out of the byte count at the next store', async () => {
      await store.put({ hash: 'old', model: 'm', value: value(600, 'o'), ttlMs: 1_000 });
      now += 2_000;
      const result = await store.put({ hash: 'new', model: 'm', value: value(600, 'n'), ttlMs: 1_000 });
      expect(result).toEqual({ stored: true, evicted: 0, bytes: 600 });
    });
  }
});

describe('holdFlightLock.lua', () => {
  let redis: TestRedis;
  beforeEach(async () => {
    redis = await testRedis('flight-lock');
  });
  afterEach(() => redis.cleanup());

  it('renews and releases the lock only for the token that holds it', async () => {
    const lock = redis.keys.cacheFlightLock('abc');
    await redis.redis.set(lock, 'leader-token', 'PX', 1_000);
    expect(await redis.redis.dosrouterHoldFlightLockV1(1, lock, 'other-token', 60_000)).toBe(0);
    expect(await redis.redis.pttl(lock)).toBeLessThanOrEqual(1_000);
    expect(await redis.redis.dosrouterHoldFlightLockV1(1, lock, 'leader-token', 60_000)).toBe(1);
    expect(await redis.redis.pttl(lock)).toBeGreaterThan(1_000);
    expect(await redis.redis.dosrouterHoldFlightLockV1(1, lock, 'other-token', 0)).toBe(0);
    expect(await redis.redis.get(lock)).toBe('leader-token');
    expect(await redis.redis.dosrouterHoldFlightLockV1(1, lock, 'leader-token', 0)).toBe(1);
    expect(await redis.redis.exists(lock)).toBe(0);
  });
});

describe('appendFlight.lua', () => {
  let redis: TestRedis;
  beforeEach(async () => {
    redis = await testRedis('flight-append');
  });
  afterEach(() => redis.cleanup());

  it('appends the events in order, binary data intact, and releases the lock at the last only for its holder', async () => {
    const lock = redis.keys.cacheFlightLock('abc');
    const stream = redis.keys.cacheFlightStream('abc', 'leader-token');
    await redis.redis.set(lock, 'leader-token', 'PX', 10_000);
    const bytes = Buffer.from([0xe2, 0x82]); // half of a UTF-8 character: must come back as it went
    expect(await redis.redis.dosrouterAppendFlightV1(2, stream, lock, 'leader-token', 600_000, '0', 'head', '{"status":200}', 'data', bytes)).toBe(2);
    expect(await redis.redis.get(lock)).toBe('leader-token');
    expect(await redis.redis.dosrouterAppendFlightV1(2, stream, lock, 'other-token', 60_000, '1', 'end', '0.5')).toBe(1);
    expect(await redis.redis.get(lock)).toBe('leader-token');
    expect(await redis.redis.dosrouterAppendFlightV1(2, stream, lock, 'leader-token', 60_000, '1')).toBe(0);
    expect(await redis.redis.exists(lock)).toBe(0);
    expect(await redis.redis.pttl(stream)).toBeLessThanOrEqual(60_000);
    const entries = await redis.redis.xrangeBuffer(stream, '-', '+');
    expect(entries.map(([, fields]) => fields[1]!.toString())).toEqual(['head', 'data', 'end']);
    expect(entries[1]![1][3]).toEqual(bytes);
  });
});
