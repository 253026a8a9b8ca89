import { GatewayError, hashSecret, looksLikeKey, type ApiKeyRecord, type KeyStore } from '@dosrouter/shared';

/** How long a looked-up key (or the absence of one) is trusted without asking the store again. */
export const KEY_CACHE_MS = 1_000;
const CACHE_SIZE = 10_000;

interface CacheEntry {
  readonly record: ApiKeyRecord | undefined;
  readonly fetchedAt: number;
}

/**
 * Turns `Authorization: Bearer dr-…` into the key record it belongs to. Each secret's lookup is cached for
 * KEY_CACHE_MS, so a busy key costs at most one store lookup a second per replica, and a revocation, rotation or any
 * change reaches every replica within that second without relying on pub/sub. Unknown secrets are cached as well,
 * so a client retrying a wrong key does not load the store. Only SHA-256 hashes are kept.
 */
export class KeyAuthenticator {
  private readonly cache = new Map<string, CacheEntry>();

  constructor(
    private readonly store: KeyStore,
    private readonly clock: () => number = Date.now,
  ) {}

  /** The caller's key; throws the OpenAI-shaped 401 for a missing, unknown, revoked or expired one. */
  async authenticate(authorization: string | undefined): Promise<ApiKeyRecord> {
    const secret = bearerSecret(authorization);
    if (secret === undefined) throw missingKey();
    // Not one of ours (an `sk-…` sent by mistake, garbage): refused without a lookup.
    if (!looksLikeKey(secret)) throw invalidKey();
    const hash = hashSecret(secret);
    const now = this.clock();
    let entry = this.cache.get(hash);
    if (entry === undefined || now - entry.fetchedAt >= KEY_CACHE_MS) {
      let record: ApiKeyRecord | undefined;
      try {
        record = await this.store.findByHash(hash, now);
      } catch (error) {
        // The store (Redis) is unreachable: a key seen before keeps working on its last known record, as routing
        // keeps its last snapshot; changes cannot spread meanwhile anyway. A key never seen cannot be checked.
        if (entry !== undefined) {
          this.cache.set(hash, { record: entry.record, fetchedAt: now }); // not asked again for a second
          return this.accept(entry.record, now);
        }
        throw new GatewayError('API keys cannot be checked right now; try again shortly.', {
          status: 503,
          code: 'keys_unavailable',
          type: 'server_error',
          retryable: true,
          retryAfterSeconds: 1,
          cause: error,
        });
      }
      entry = { record, fetchedAt: now };
      if (this.cache.size >= CACHE_SIZE) this.cache.clear();
      this.cache.set(hash, entry);
    }
    return this.accept(entry.record, now);
  }

  private accept(record: ApiKeyRecord | undefined, now: number): ApiKeyRecord {
    if (record === undefined || record.revokedAt !== undefined) throw invalidKey();
    if (record.expiresAt !== undefined && record.expiresAt <= now) throw expiredKey();
    this.store.touch(record.id, now);
    return record;
  }

  /** Forgets every cached lookup of one key: this replica changed it through the admin API. */
  forget(keyId: string): void {
    for (const [hash, entry] of this.cache) if (entry.record?.id === keyId) this.cache.delete(hash);
  }
}

function bearerSecret(authorization: string | undefined): string | undefined {
  if (authorization === undefined) return undefined;
  return /^\s*bearer\s+(\S+)\s*$/i.exec(authorization)?.[1];
}

const missingKey = (): GatewayError =>
  new GatewayError(
    "You didn't provide an API key. You need to provide your API key in an Authorization header using Bearer auth (i.e. Authorization: Bearer YOUR_KEY), or in an x-api-key header.",
    { status: 401, code: 'missing_api_key', type: 'authentication_error' },
  );

/** The message never repeats the key: error bodies end up in client logs. */
const invalidKey = (): GatewayError =>
  new GatewayError('Incorrect API key provided.', { status: 401, code: 'invalid_api_key', type: 'authentication_error' });

const expiredKey = (): GatewayError =>
  new GatewayError('This API key has expired.', { status: 401, code: 'expired_api_key', type: 'authentication_error' });
