import { isResponseId, ownerOf, type ResponseLookup, type ResponseStore, type SaveOutcome, type StoredResponse } from './response-store.js';
import { decodeStoredResponse, encodeStoredResponse } from './stored-response-document.js';

export interface MemoryResponseStoreOptions {
  readonly ttlMs: number;
  readonly maxBytesPerResponse: number;
  /** Responses kept at most; past it the oldest go first. */
  readonly maxEntries: number;
  /** Bytes (of their JSON) kept at most; past it the oldest go first. */
  readonly maxBytes: number;
  /** Defaults to Date.now. */
  readonly clock?: () => number;
}

interface Entry {
  readonly text: string;
  readonly bytes: number;
  readonly expiresAt: number;
}

/**
 * Embedded mode's stored responses, in this process: a restart forgets them. Entries are kept in the order they were
 * stored, which with one TTL is also the order they expire in, so expired ones are dropped from the front as new ones
 * come, and past `maxEntries` or `maxBytes` the oldest are dropped first. Kept as their JSON, so a reader never
 * shares an object with the store and the bytes counted are the bytes kept.
 */
export class MemoryResponseStore implements ResponseStore {
  private readonly entries = new Map<string, Entry>();
  private bytes = 0;
  private readonly clock: () => number;

  constructor(private readonly options: MemoryResponseStoreOptions) {
    this.clock = options.clock ?? Date.now;
  }

  /** Responses kept now, expired ones not yet dropped included. */
  get size(): number {
    return this.entries.size;
  }

  /** Bytes kept now. */
  get keptBytes(): number {
    return this.bytes;
  }

  async save(response: StoredResponse): Promise<SaveOutcome> {
    if (!isResponseId(response.id)) throw new Error(`not a response id: ${JSON.stringify(response.id)}`);
    const encoded = encodeStoredResponse(response, this.options.maxBytesPerResponse);
    const now = this.clock();
    const name = entryName(response.keyId, response.id);
    const entry: Entry = { text: encoded.text, bytes: Buffer.byteLength(encoded.text), expiresAt: now + this.options.ttlMs };
    this.remove(name);
    this.entries.set(name, entry);
    this.bytes += entry.bytes;
    this.evict(now);
    return encoded.saved ? { saved: true, bytes: encoded.bytes } : { saved: false, reason: 'too_large', bytes: encoded.bytes, limit: encoded.limit };
  }

  async get(keyId: string | undefined, id: string): Promise<ResponseLookup> {
    const entry = this.live(entryName(keyId, id));
    return entry === undefined ? { found: false, reason: 'missing' } : decodeStoredResponse(entry.text, keyId, id);
  }

  async delete(keyId: string | undefined, id: string): Promise<boolean> {
    const name = entryName(keyId, id);
    const found = this.live(name) !== undefined;
    this.remove(name);
    return found;
  }

  async close(): Promise<void> {
    this.entries.clear();
    this.bytes = 0;
  }

  private live(name: string): Entry | undefined {
    const entry = this.entries.get(name);
    if (entry === undefined) return undefined;
    if (entry.expiresAt > this.clock()) return entry;
    this.remove(name);
    return undefined;
  }

  private remove(name: string): void {
    const entry = this.entries.get(name);
    if (entry === undefined) return;
    this.entries.delete(name);
    this.bytes -= entry.bytes;
  }

  /** Drops expired entries, then the oldest while a bound is passed: both from the front, the oldest end. */
  private evict(now: number): void {
    const { maxEntries, maxBytes } = this.options;
    for (const [name, entry] of this.entries) {
      if (entry.expiresAt > now && this.entries.size <= maxEntries && this.bytes <= maxBytes) return;
      this.remove(name);
    }
  }
}

/** Owner and id in one Map key; the separator appears in neither (key ids and response ids are base64url). */
function entryName(keyId: string | undefined, id: string): string {
  return `${ownerOf(keyId)}\u0000${id}`;
}
