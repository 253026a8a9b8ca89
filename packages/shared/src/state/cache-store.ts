/** One answer to store: its hash (the cache key), its model (for flushes) and its JSON. */
export interface CacheEntryWrite {
  readonly hash: string;
  readonly model: string;
  readonly value: string;
  readonly ttlMs: number;
}

export interface CachePutResult {
  /** False when the answer alone is larger than the byte budget. */
  readonly stored: boolean;
  /** Answers evicted to make room (least recently used first). */
  readonly evicted: number;
  /** The bytes the cache holds after the store. */
  readonly bytes: number;
}

/**
 * Where the response cache keeps its answers: Redis in cluster mode (shared by every replica), memory in embedded
 * mode. Both evict the least recently used answers past the byte budget and forget an answer when its TTL ends.
 */
export interface CacheStore {
  /** The answer stored under `hash`, marked as used now; undefined when there is none (or it expired). */
  get(hash: string): Promise<string | undefined>;
  put(entry: CacheEntryWrite): Promise<CachePutResult>;
  /** Deletes every answer of `model`; resolves to how many there were. */
  flushModel(model: string): Promise<number>;
}
