import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { connectSubscriber } from '../state/redis/connection.js';
import { testRedis, type TestRedis } from '../test-support/redis.js';
import type { KeyStore } from './api-key.js';
import { eventually } from '../test-support/eventually.js';
import { describeKeyStoreContract } from '../test-support/key-store-contract.js';
import { RedisKeyStore } from './redis-key-store.js';
import { hashSecret } from './secrets.js';

describeKeyStoreContract('RedisKeyStore', async () => {
  const test = await testRedis('apikeys');
  const store = new RedisKeyStore(test.redis, test.keys);
  return {
    store,
    now: Date.now,
    // Redis ends a grace on its own clock: nothing to move; the contract polls until the old secret stops.
    pass: async () => undefined,
    // Three lookups must fit inside it right after the rotation, also on a busy machine.
    graceMs: 2_000,
    close: async () => {
      await store.close();
      await test.cleanup();
    },
  };
});

describe('RedisKeyStore in Redis', () => {
  let test: TestRedis;
  let stores: RedisKeyStore[];
  const replica = (touchFlushMs?: number): RedisKeyStore => {
    const store = new RedisKeyStore(test.redis, test.keys, { touchFlushMs });
    stores.push(store);
    return store;
  };
  const works = async (store: KeyStore, secret: string) => (await store.findByHash(hashSecret(secret), Date.now())) !== undefined;
  beforeEach(async () => {
    test = await testRedis('apikeys');
    stores = [];
  });
  afterEach(async () => {
    await Promise.all(stores.map((store) => store.close()));
    await test.cleanup();
  });

  /** Every key matching a pattern (a whole SCAN: the server is shared and may hold many keys). */
  async function scanAll(pattern: string): Promise<string[]> {
    const keys: string[] = [];
    let cursor = '0';
    do {
      const [next, found] = await test.redis.scan(cursor, 'MATCH', pattern, 'COUNT', 500);
      cursor = next;
      keys.push(...found);
    } while (cursor !== '0');
    return keys;
  }

  /** Every key name and value under the test's prefix, as text. */
  async function everythingStored(): Promise<string[]> {
    const texts: string[] = [];
    for (const key of await scanAll(`${test.prefix}:*`)) {
      texts.push(key);
      const type = await test.redis.type(key);
      if (type === 'string') texts.push((await test.redis.get(key)) ?? '');
      else if (type === 'set') texts.push(...(await test.redis.smembers(key)));
      else if (type === 'hash') texts.push(...Object.entries(await test.redis.hgetall(key)).flat());
      else throw new Error(`unexpected ${type} at ${key}`);
    }
    return texts;
  }

  it('writes hashes only: no secret appears in any key or value under the prefix', async () => {
    const store = replica();
    const now = Date.now();
    const first = await store.create({ name: 'a', owner: { team: 't' } }, now);
    const second = await store.create({ name: 'b' }, now);
    const rotated = await store.rotate(first.record.id, 60_000, now);
    await store.update(second.record.id, { allowedModels: ['m'] }, now);
    store.touch(first.record.id, now);
    await store.flush();
    const stored = await everythingStored();
    // Something was scanned: the current secrets' hashes name their entries.
    expect(stored).toContain(test.keys.apiKeyHash(hashSecret(rotated!.secret)));
    expect(stored).toContain(test.keys.apiKeyHash(hashSecret(first.secret)));
    for (const secret of [first.secret, second.secret, rotated!.secret]) {
      for (const text of stored) expect(text).not.toContain(secret.slice(3));
    }
  });

  it('shows every change made through one store to another on the same prefix at once', async () => {
    const [a, b] = [replica(), replica()];
    const now = Date.now();
    const { record, secret } = await a.create({ name: 'shared' }, now);
    expect(await b.findByHash(hashSecret(secret), now)).toEqual(record);
    await b.update(record.id, { name: 'renamed' }, now);
    expect((await a.get(record.id))?.name).toBe('renamed');
    const rotated = await b.rotate(record.id, 0, now);
    expect(await works(a, secret)).toBe(false);
    expect(await works(a, rotated!.secret)).toBe(true);
    await a.revoke(record.id, now);
    expect(await works(b, rotated!.secret)).toBe(false);
    expect((await b.list()).map((listed) => listed.revokedAt)).toEqual([now]);
  });

  it('leaves one current secret when two replicas rotate at once', async () => {
    const [a, b] = [replica(), replica()];
    const { record } = await a.create({ name: 'contended' }, Date.now());
    const rotations = await Promise.all(Array.from({ length: 8 }, (_, index) => (index % 2 ? a : b).rotate(record.id, 0, Date.now())));
    const working = [];
    for (const rotation of rotations) if (await works(a, rotation!.secret)) working.push(rotation!.secret);
    expect(working).toHaveLength(1);
    // Nor is any other secret's entry left behind.
    expect(await scanAll(test.keys.apiKeyHash('*'))).toEqual([test.keys.apiKeyHash(hashSecret(working[0]!))]);
  });

  it('announces the id of every key created, updated, rotated or revoked', async () => {
    const store = replica();
    const subscriber = connectSubscriber(test.redis, 'dosrouter-test-apikeys-subscriber');
    try {
      const heard: string[] = [];
      subscriber.on('message', (channel: string, message: string) => {
        if (channel === test.keys.apiKeysChannel()) heard.push(message);
      });
      await subscriber.connect();
      await subscriber.subscribe(test.keys.apiKeysChannel());
      const now = Date.now();
      const { record } = await store.create({ name: 'announced' }, now);
      await store.update(record.id, { name: 'renamed' }, now);
      await store.rotate(record.id, 1_000, now);
      await store.revoke(record.id, now);
      await eventually(() => heard.length === 4, 10_000, 'four announcements');
      expect(heard).toEqual([record.id, record.id, record.id, record.id]);
    } finally {
      subscriber.disconnect();
    }
  });

  it('lets Redis end the grace: the previous secret’s entry expires with it, the current one never', async () => {
    const store = replica();
    const { record, secret } = await store.create({ name: 'ttl' }, Date.now());
    const rotatingSince = Date.now();
    const rotated = await store.rotate(record.id, 10_000, Date.now());
    const previousTtl = await test.redis.pttl(test.keys.apiKeyHash(hashSecret(secret)));
    // The TTL is the grace, less what has passed since the rotation began (however slow this machine is).
    expect(previousTtl).toBeGreaterThanOrEqual(10_000 - (Date.now() - rotatingSince) - 1);
    expect(previousTtl).toBeLessThanOrEqual(10_000);
    expect(await test.redis.pttl(test.keys.apiKeyHash(hashSecret(rotated!.secret)))).toBe(-1);
    expect(await test.redis.pttl(test.keys.apiKey(record.id))).toBe(-1);
  });

  it('batches last-use times: nothing before the flush period, the latest after it, and close writes the rest', async () => {
    const batching = replica(200);
    const now = Date.now();
    const { record } = await batching.create({ name: 'busy' }, now);
    for (let index = 0; index < 100; index += 1) batching.touch(record.id, now + index);
    expect(await test.redis.hget(test.keys.apiKeysLastUsed(), record.id)).toBeNull();
    await eventually(async () => (await test.redis.hget(test.keys.apiKeysLastUsed(), record.id)) === String(now + 99), 10_000);

    const slow = replica(60_000);
    slow.touch(record.id, now + 500);
    // A round trip on the connection the store writes on: a write touch() had started would be answered before it.
    await test.redis.ping();
    expect(await test.redis.hget(test.keys.apiKeysLastUsed(), record.id)).toBe(String(now + 99));
    await slow.close();
    expect(await test.redis.hget(test.keys.apiKeysLastUsed(), record.id)).toBe(String(now + 500));
    slow.touch(record.id, now + 900);
    await slow.flush();
    expect((await batching.get(record.id))?.lastUsedAt).toBe(now + 500);

    // A replica that flushes an older time after another's newer one does not move it back.
    const lagging = replica();
    lagging.touch(record.id, now + 300);
    await lagging.flush();
    expect((await batching.get(record.id))?.lastUsedAt).toBe(now + 500);
  });
});
