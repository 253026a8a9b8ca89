import { randomBytes } from 'node:crypto';
import { Cluster } from 'ioredis';
import { RedisKeys } from '../state/keys.js';
import { connectRedis, type RedisClient } from '../state/redis/connection.js';
import type { ScriptCommands } from '../state/redis/scripts.js';

/** The Redis tests use: the shared server unless REDIS_URL names another. Never flushed. */
export const TEST_REDIS_URL = process.env.TEST_REDIS_URL ?? 'redis://127.0.0.1:6379';

export interface TestRedis {
  readonly redis: RedisClient & ScriptCommands;
  readonly keys: RedisKeys;
  readonly prefix: string;
  /** Deletes every key under this test's prefix and disconnects. */
  cleanup(): Promise<void>;
}

/** A connection and a key prefix of the test's own, so tests can share one Redis and run in parallel. */
export async function testRedis(label: string, url = TEST_REDIS_URL): Promise<TestRedis> {
  const prefix = `test-${label}-${randomBytes(4).toString('hex')}`;
  const redis = connectRedis({ url, commandTimeoutMs: 2_000 }, `dosrouter-test-${label}`);
  await redis.connect();
  return {
    redis,
    keys: new RedisKeys(prefix),
    prefix,
    cleanup: async () => {
      await deletePrefix(redis, prefix);
      redis.disconnect();
    },
  };
}

/** Deletes every key under a prefix (SCAN, never FLUSHDB: the server is shared). */
export async function deletePrefix(redis: RedisClient, prefix: string): Promise<void> {
  if (redis instanceof Cluster) {
    // SCAN walks one node: walk every master, and delete key by key (they live in different slots).
    for (const node of redis.nodes('master')) {
      let cursor = '0';
      do {
        const [next, found] = await node.scan(cursor, 'MATCH', `${prefix}:*`, 'COUNT', 500);
        cursor = next;
        for (const key of found) await redis.del(key);
      } while (cursor !== '0');
    }
    return;
  }
  let cursor = '0';
  do {
    const [next, found] = await redis.scan(cursor, 'MATCH', `${prefix}:*`, 'COUNT', 500);
    cursor = next;
    if (found.length > 0) await redis.del(...found);
  } while (cursor !== '0');
}

/** Connects to `url` only to delete a prefix's keys, then disconnects. */
export async function deletePrefixAt(url: string, prefix: string): Promise<void> {
  const redis = connectRedis({ url, commandTimeoutMs: 2_000 }, 'dosrouter-test-cleanup');
  try {
    await redis.connect();
    await deletePrefix(redis, prefix);
  } catch {
    // A server a test has stopped has nothing left to clean.
  } finally {
    redis.disconnect();
  }
}
