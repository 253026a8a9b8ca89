import { describe, expect, it } from 'vitest';
import { GatewayError, MemoryKeyStore } from '@dosrouter/shared';
import { KEY_CACHE_MS, KeyAuthenticator } from './key-authenticator.js';

/** A memory store whose lookups fail while `down` is set, as a Redis store's do while Redis is unreachable. */
class FlakyStore extends MemoryKeyStore {
  down = false;
  lookups = 0;
  override async findByHash(hash: string, now: number) {
    this.lookups += 1;
    if (this.down) throw new Error('connect ECONNREFUSED 127.0.0.1:6379');
    return super.findByHash(hash, now);
  }
}

const refusal = async (call: Promise<unknown>): Promise<GatewayError> =>
  call.then(
    () => {
      throw new Error('expected a refusal');
    },
    (error: unknown) => error as GatewayError,
  );

describe('KeyAuthenticator', () => {
  it('caches a lookup for a second, and refuses tokens that are not ours without one', async () => {
    let now = 1_000;
    const store = new FlakyStore();
    const { secret } = await store.create({ name: 'a' }, now);
    const authenticator = new KeyAuthenticator(store, () => now);
    await authenticator.authenticate(`Bearer ${secret}`);
    await authenticator.authenticate(`Bearer ${secret}`);
    expect(store.lookups).toBe(1);
    now += KEY_CACHE_MS;
    await authenticator.authenticate(`Bearer ${secret}`);
    expect(store.lookups).toBe(2);
    expect((await refusal(authenticator.authenticate('Bearer sk-something-else'))).code).toBe('invalid_api_key');
    expect((await refusal(authenticator.authenticate(undefined))).code).toBe('missing_api_key');
    expect(store.lookups).toBe(2);
  });

  it('refuses a key revoked through another replica once its cached lookup is KEY_CACHE_MS old, and not before', async () => {
    let now = 1_000;
    const store = new FlakyStore();
    const { secret, record } = await store.create({ name: 'shared' }, now);
    const otherReplica = new KeyAuthenticator(store, () => now);
    await otherReplica.authenticate(`Bearer ${secret}`);

    expect(await store.revoke(record.id, now)).toBe(true);
    now += KEY_CACHE_MS - 1;
    // The documented staleness: a cached lookup is trusted for KEY_CACHE_MS.
    expect((await otherReplica.authenticate(`Bearer ${secret}`)).id).toBe(record.id);
    now += 1;
    expect((await refusal(otherReplica.authenticate(`Bearer ${secret}`))).code).toBe('invalid_api_key');
  });

  it('keeps serving known keys while the store is down, and answers 503 (not 500) for unknown ones', async () => {
    let now = 1_000;
    const store = new FlakyStore();
    const { secret, record } = await store.create({ name: 'a' }, now);
    const other = (await store.create({ name: 'b' }, now)).secret;
    const authenticator = new KeyAuthenticator(store, () => now);
    await authenticator.authenticate(`Bearer ${secret}`);

    store.down = true;
    now += KEY_CACHE_MS * 5;
    expect((await authenticator.authenticate(`Bearer ${secret}`)).id).toBe(record.id);
    const lookupsWhileDown = store.lookups;
    await authenticator.authenticate(`Bearer ${secret}`); // not asked again within the second
    expect(store.lookups).toBe(lookupsWhileDown);
    const unknown = await refusal(authenticator.authenticate(`Bearer ${other}`));
    expect(unknown).toMatchObject({ status: 503, code: 'keys_unavailable', retryable: true });
  });

  describe('when a key has expired', () => {
    it('answers expired_api_key on a fresh lookup', async () => {
      let now = 1_000;
      const store = new FlakyStore();
      const { secret } = await store.create({ name: 'a', expiresAt: 5_000 }, now);
      now = 5_000;
      const authenticator = new KeyAuthenticator(store, () => now);
      expect((await refusal(authenticator.authenticate(`Bearer ${secret}`))).code).toBe('expired_api_key');
      now += KEY_CACHE_MS; // looked up again: still expired
      expect((await refusal(authenticator.authenticate(`Bearer ${secret}`))).code).toBe('expired_api_key');
      expect(store.lookups).toBe(2);
    });

    it('answers expired_api_key from the cache as well', async () => {
      let now = 1_000;
      const store = new FlakyStore();
      const { secret } = await store.create({ name: 'a', expiresAt: 5_000 }, now);
      now = 4_999;
      const authenticator = new KeyAuthenticator(store, () => now);
      await authenticator.authenticate(`Bearer ${secret}`);
      now = 5_000; // within the cached second
      expect((await refusal(authenticator.authenticate(`Bearer ${secret}`))).code).toBe('expired_api_key');
      expect(store.lookups).toBe(1);
    });
  });
});
