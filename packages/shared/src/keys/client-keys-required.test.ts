import { describe, expect, it } from 'vitest';
import { clientKeysRequired } from './client-keys-required.js';
import { MemoryKeyStore } from './memory-key-store.js';

describe('clientKeysRequired', () => {
  it('follows auth.mode keys and open whatever else holds', async () => {
    const store = new MemoryKeyStore();
    await store.create({ name: 'team-a' }, 1_000);
    expect(await clientKeysRequired('keys', undefined, undefined)).toBe(true);
    expect(await clientKeysRequired('open', 'admin-key', store)).toBe(false);
  });

  it('in auto mode, requires keys with the admin key, or without it once the store holds a live key', async () => {
    const store = new MemoryKeyStore();
    expect(await clientKeysRequired('auto', 'admin-key', undefined)).toBe(true);
    expect(await clientKeysRequired('auto', undefined, undefined)).toBe(false);
    expect(await clientKeysRequired('auto', undefined, store)).toBe(false);
    const issued = await store.create({ name: 'team-a' }, 1_000);
    expect(await clientKeysRequired('auto', undefined, store)).toBe(true);
    await store.revoke(issued.record.id, 2_000);
    expect(await clientKeysRequired('auto', undefined, store)).toBe(false);
  });

  it('counts a store that cannot be read as holding no keys', async () => {
    expect(await clientKeysRequired('auto', undefined, { list: () => Promise.reject(new Error('Redis down')) })).toBe(false);
  });
});
