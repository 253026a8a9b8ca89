import { describe, expect, it } from 'vitest';
import { describeKeyStoreContract } from '../test-support/key-store-contract.js';
import { MemoryKeyStore } from './memory-key-store.js';
import { hashSecret } from './secrets.js';

describeKeyStoreContract('MemoryKeyStore', async () => {
  let clock = 1_700_000_000_000;
  return {
    store: new MemoryKeyStore(),
    now: () => clock,
    pass: async (ms) => {
      clock += ms;
    },
    graceMs: 60_000,
    close: async () => undefined,
  };
});

describe('MemoryKeyStore', () => {
  const now = 1_700_000_000_000;

  it('ends a rotation’s grace exactly graceMs after the rotation', async () => {
    const store = new MemoryKeyStore();
    const { record, secret } = await store.create({ name: 'a' }, now);
    await store.rotate(record.id, 5_000, now + 100);
    expect(await store.findByHash(hashSecret(secret), now + 5_099)).toBeDefined();
    expect(await store.findByHash(hashSecret(secret), now + 5_100)).toBeUndefined();
  });

  it('hands out copies: changing a returned record changes nothing stored', async () => {
    const store = new MemoryKeyStore();
    const { record } = await store.create({ name: 'a', owner: { team: 'x' }, allowedModels: ['m'] }, now);
    (record.owner as Record<string, string>).team = 'changed';
    (record.allowedModels as string[]).push('other');
    expect(await store.get(record.id)).toMatchObject({ owner: { team: 'x' }, allowedModels: ['m'] });
  });
});
