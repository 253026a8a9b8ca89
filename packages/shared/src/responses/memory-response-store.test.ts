import { describe, expect, it } from 'vitest';
import { describeResponseStoreContract, storedResponse } from '../test-support/response-store-contract.js';
import { MemoryResponseStore } from './memory-response-store.js';

describeResponseStoreContract('MemoryResponseStore', async ({ ttlMs, maxBytesPerResponse }) => {
  const store = new MemoryResponseStore({ ttlMs, maxBytesPerResponse, maxEntries: 1_000, maxBytes: 16 * 1024 * 1024 });
  return { store, close: () => store.close() };
});

describe('MemoryResponseStore bounds', () => {
  const bounded = (maxEntries: number, maxBytes: number, clock: () => number = () => 0) =>
    new MemoryResponseStore({ ttlMs: 60_000, maxBytesPerResponse: 64 * 1024, maxEntries, maxBytes, clock });

  it('drops the oldest response first past maxEntries', async () => {
    const store = bounded(2, 1024 * 1024);
    for (const id of ['resp_1', 'resp_2', 'resp_3']) await store.save(storedResponse(id, 'key_a'));
    expect(store.size).toBe(2);
    expect((await store.get('key_a', 'resp_1')).found).toBe(false);
    expect((await store.get('key_a', 'resp_2')).found).toBe(true);
    expect((await store.get('key_a', 'resp_3')).found).toBe(true);
  });

  it('drops the oldest responses first past maxBytes, and counts the bytes it keeps', async () => {
    const one = (await bounded(10, 1024 * 1024).save(storedResponse('resp_1', 'key_a'))).bytes;
    const store = bounded(10, one * 2 + 10);
    for (const id of ['resp_1', 'resp_2', 'resp_3']) await store.save(storedResponse(id, 'key_a'));
    expect(store.size).toBe(2);
    expect(store.keptBytes).toBe(one * 2);
    expect((await store.get('key_a', 'resp_1')).found).toBe(false);
    await store.delete('key_a', 'resp_2');
    expect(store.keptBytes).toBe(one);
  });

  it('drops expired responses as new ones are saved', async () => {
    let now = 0;
    const store = bounded(100, 1024 * 1024, () => now);
    await store.save(storedResponse('resp_old', 'key_a'));
    now = 60_001;
    await store.save(storedResponse('resp_new', 'key_a'));
    expect(store.size).toBe(1);
    expect((await store.get('key_a', 'resp_new')).found).toBe(true);
  });

  it('keeps one copy when the same response is saved again', async () => {
    const store = bounded(10, 1024 * 1024);
    await store.save(storedResponse('resp_1', 'key_a', 'first'));
    await store.save(storedResponse('resp_1', 'key_a', 'second'));
    expect(store.size).toBe(1);
    const lookup = await store.get('key_a', 'resp_1');
    expect(lookup.found && JSON.stringify(lookup.stored.response)).toContain('second');
  });
});
