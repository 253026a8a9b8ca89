import type { CacheEntryWrite, CachePutResult, CacheStore } from '../cache-store.js';
import type { RedisKeys } from '../keys.js';
import type { RedisClient } from './connection.js';
import type { ScriptCommands } from './scripts.js';

/**
 * The response cache in Redis, shared by every replica: one string per answer with its TTL, and under the same hash
 * tag (`{cache}`) an index of sizes and models, the access order and the expiries, which `putCacheEntry.lua` keeps
 * within `maxBytes` by evicting the least recently used answers in the same script that stores one. A read is one
 * script call (the answer, and its access time moved to now).
 */
export class RedisCacheStore implements CacheStore {
  constructor(
    private readonly redis: RedisClient & ScriptCommands,
    private readonly keys: RedisKeys,
    private readonly maxBytes: number,
    private readonly clock: () => number = Date.now,
  ) {}

  async get(hash: string): Promise<string | undefined> {
    const value = await this.redis.dosrouterGetCacheEntryV1(2, this.keys.cacheEntry(hash), this.keys.cacheAccess(), hash, this.clock());
    return typeof value === 'string' ? value : undefined;
  }

  async put({ hash, model, value, ttlMs }: CacheEntryWrite): Promise<CachePutResult> {
    const { keys } = this;
    const reply = (await this.redis.dosrouterPutCacheEntryV1(
      5,
      keys.cacheEntry(hash),
      keys.cacheIndex(),
      keys.cacheAccess(),
      keys.cacheExpiry(),
      keys.cacheBytes(),
      hash,
      value,
      ttlMs,
      this.clock(),
      this.maxBytes,
      model,
      keys.cacheEntryPrefix(),
      keys.cacheModelPrefix(),
    )) as [number, number, number];
    return { stored: reply[0] === 1, evicted: Number(reply[1]), bytes: Number(reply[2]) };
  }

  async flushModel(model: string): Promise<number> {
    const { keys } = this;
    const flushed = await this.redis.dosrouterFlushCacheModelV1(5, keys.cacheModel(model), keys.cacheIndex(), keys.cacheAccess(), keys.cacheExpiry(), keys.cacheBytes(), keys.cacheEntryPrefix());
    return Number(flushed);
  }
}
