import type { CacheEntryWrite, CachePutResult, CacheStore } from '../cache-store.js';

interface MemoryEntry {
  readonly value: string;
  readonly model: string;
  readonly bytes: number;
  readonly expiresAt: number;
}

/**
 * The response cache of an embedded gateway: a Map in access order (a read moves the answer to the end), so the
 * least recently used answer is the first one; past `maxBytes` answers are evicted from the front. Sizes are the
 * answers' UTF-8 bytes, the same measure Redis' budget uses.
 */
export class MemoryCacheStore implements CacheStore {
  private readonly entries = new Map<string, MemoryEntry>();
  private bytes = 0;

  constructor(
    private readonly maxBytes: number,
    private readonly clock: () => number = Date.now,
  ) {}

  get size(): number {
    return this.entries.size;
  }

  get(hash: string): Promise<string | undefined> {
    const entry = this.entries.get(hash);
    if (!entry) return Promise.resolve(undefined);
    this.entries.delete(hash);
    if (entry.expiresAt <= this.clock()) {
      this.bytes -= entry.bytes;
      return Promise.resolve(undefined);
    }
    this.entries.set(hash, entry);
    return Promise.resolve(entry.value);
  }

  put({ hash, model, value, ttlMs }: CacheEntryWrite): Promise<CachePutResult> {
    this.remove(hash);
    const bytes = Buffer.byteLength(value);
    if (bytes > this.maxBytes) return Promise.resolve({ stored: false, evicted: 0, bytes: this.bytes });
    const now = this.clock();
    this.entries.set(hash, { value, model, bytes, expiresAt: now + ttlMs });
    this.bytes += bytes;
    let evicted = 0;
    for (const [oldest, entry] of this.entries) {
      if (this.bytes <= this.maxBytes) break;
      // The front of the map is the least recently used answer.
      this.remove(oldest);
      if (entry.expiresAt > now) evicted += 1;
    }
    return Promise.resolve({ stored: true, evicted, bytes: this.bytes });
  }

  flushModel(model: string): Promise<number> {
    let flushed = 0;
    for (const [hash, entry] of this.entries) {
      if (entry.model !== model) continue;
      this.remove(hash);
      flushed += 1;
    }
    return Promise.resolve(flushed);
  }

  private remove(hash: string): void {
    const entry = this.entries.get(hash);
    if (!entry) return;
    this.entries.delete(hash);
    this.bytes -= entry.bytes;
  }
}
