import type { RedisKeys } from '../state/keys.js';
import type { RedisClient } from '../state/redis/connection.js';
import { isResponseId, ownerOf, type ResponseLookup, type ResponseStore, type SaveOutcome, type StoredResponse } from './response-store.js';
import { decodeStoredResponse, encodeStoredResponse } from './stored-response-document.js';

export interface RedisResponseStoreOptions {
  readonly ttlMs: number;
  readonly maxBytesPerResponse: number;
}

/**
 * Cluster mode's stored responses: one string per response, `…:responses:<key id>:<response id>`
 * ({@link RedisKeys.storedResponse}), with the TTL set in the same command that writes it. Because the key id is part
 * of the name, a lookup by one key cannot reach another key's response, and a delete is one atomic DEL. Every method
 * is one command; Redis errors reach the caller (a continuation then fails with a 503, a save is logged and dropped).
 * Give it a connection of its own: a value of megabytes then never queues ahead of the request path's admissions.
 */
export class RedisResponseStore implements ResponseStore {
  constructor(
    private readonly redis: RedisClient,
    private readonly keys: RedisKeys,
    private readonly options: RedisResponseStoreOptions,
    /** Closes the connection with the store; false when the caller owns it. */
    private readonly ownsConnection = true,
  ) {}

  async save(response: StoredResponse): Promise<SaveOutcome> {
    if (!isResponseId(response.id)) throw new Error(`not a response id: ${JSON.stringify(response.id)}`);
    const encoded = encodeStoredResponse(response, this.options.maxBytesPerResponse);
    await this.redis.set(this.keys.storedResponse(ownerOf(response.keyId), response.id), encoded.text, 'PX', this.options.ttlMs);
    return encoded.saved ? { saved: true, bytes: encoded.bytes } : { saved: false, reason: 'too_large', bytes: encoded.bytes, limit: encoded.limit };
  }

  async get(keyId: string | undefined, id: string): Promise<ResponseLookup> {
    if (!isResponseId(id)) return { found: false, reason: 'missing' };
    const text = await this.redis.get(this.keys.storedResponse(ownerOf(keyId), id));
    return text === null ? { found: false, reason: 'missing' } : decodeStoredResponse(text, keyId, id);
  }

  async delete(keyId: string | undefined, id: string): Promise<boolean> {
    if (!isResponseId(id)) return false;
    return (await this.redis.del(this.keys.storedResponse(ownerOf(keyId), id))) === 1;
  }

  async close(): Promise<void> {
    if (this.ownsConnection) this.redis.disconnect();
  }
}
