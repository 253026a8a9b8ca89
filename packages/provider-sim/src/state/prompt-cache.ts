/**
 * The prompt prefixes the simulated provider has cached, by a digest of (model, prefix). An entry lives `ttlMs` from
 * its last use: a read refreshes it, as Anthropic's and OpenAI's caches do. Bounded: past `capacity` entries the one
 * used least recently goes first, so a long benchmark cannot grow the simulator without bound.
 */
export const MAXIMUM_PROMPT_CACHE_ENTRIES = 100_000;

interface CacheEntry {
  expiresAt: number;
  ttlMs: number;
}

export class PromptCache {
  private readonly entries = new Map<string, CacheEntry>();

  constructor(
    private readonly clock: () => number,
    private readonly capacity = MAXIMUM_PROMPT_CACHE_ENTRIES,
  ) {}

  /** True when the prefix is cached and alive; a hit refreshes the entry's lifetime. */
  read(key: string): boolean {
    const entry = this.entries.get(key);
    if (entry === undefined) {
      return false;
    }
    const now = this.clock();
    if (entry.expiresAt <= now) {
      this.entries.delete(key);
      return false;
    }
    this.touch(key, { expiresAt: now + entry.ttlMs, ttlMs: entry.ttlMs });
    return true;
  }

  /** Caches the prefix for `ttlMs`; a longer lifetime already held is kept. */
  write(key: string, ttlMs: number): void {
    const now = this.clock();
    const existing = this.entries.get(key);
    const kept = existing !== undefined && existing.expiresAt > now && existing.ttlMs > ttlMs ? existing.ttlMs : ttlMs;
    this.touch(key, { expiresAt: now + kept, ttlMs: kept });
  }

  get size(): number {
    return this.entries.size;
  }

  clear(): void {
    this.entries.clear();
  }

  private touch(key: string, entry: CacheEntry): void {
    // Re-inserting moves the key to the end of the Map's order, so the first key is always the least recently used.
    this.entries.delete(key);
    this.entries.set(key, entry);
    if (this.entries.size > this.capacity) {
      const oldest = this.entries.keys().next().value;
      if (oldest !== undefined) {
        this.entries.delete(oldest);
      }
    }
  }
}
