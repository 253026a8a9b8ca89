/**
 * Test support: the behaviour every ResponseStore must show, run by the memory and the Redis store's tests. Not
 * exported from the package.
 */
import { afterEach, describe, expect, it } from 'vitest';
import type { ResponseStore, StoredResponse } from '../responses/response-store.js';
import { eventually } from './eventually.js';

export interface ResponseStoreSettings {
  readonly ttlMs: number;
  readonly maxBytesPerResponse: number;
}

/** Makes an empty store of the test's own with these settings; `close` also removes what it kept. */
export type ResponseStoreFactory = (settings: ResponseStoreSettings) => Promise<{ store: ResponseStore; close(): Promise<void> }>;

const HOUR_MS = 3_600_000;

export function storedResponse(id: string, keyId: string | undefined, text = 'Paris.'): StoredResponse {
  return {
    id,
    ...(keyId !== undefined ? { keyId } : {}),
    deployment: 'sim-a/gpt-4o-mini',
    createdAt: 1_765_000_000_000,
    response: {
      id,
      object: 'response',
      created_at: 1_765_000_000,
      status: 'completed',
      model: 'gpt-4o-mini',
      output: [{ type: 'message', id: 'msg_1', role: 'assistant', status: 'completed', content: [{ type: 'output_text', text, annotations: [] }] }],
      usage: { input_tokens: 12, output_tokens: 2, total_tokens: 14 },
    },
    input: [
      { role: 'user', content: [{ type: 'input_text', text: 'What is the capital of France?' }] },
    ],
  };
}

export function describeResponseStoreContract(name: string, makeStore: ResponseStoreFactory): void {
  describe(`${name}: the ResponseStore contract`, () => {
    const opened: { close(): Promise<void> }[] = [];
    const open = async (settings: ResponseStoreSettings = { ttlMs: HOUR_MS, maxBytesPerResponse: 64 * 1024 }): Promise<ResponseStore> => {
      const made = await makeStore(settings);
      opened.push(made);
      return made.store;
    };
    afterEach(async () => {
      for (const made of opened.splice(0)) await made.close();
    });

    it('gives a saved response back whole to the key that saved it', async () => {
      const store = await open();
      const saved = storedResponse('resp_contract1', 'key_alice');
      const outcome = await store.save(saved);
      expect(outcome).toEqual({ saved: true, bytes: expect.any(Number) });
      expect(await store.get('key_alice', 'resp_contract1')).toEqual({ found: true, stored: saved });
    });

    it('keeps responses made without a key (open mode) apart from every key’s', async () => {
      const store = await open();
      await store.save(storedResponse('resp_open1', undefined));
      expect(await store.get(undefined, 'resp_open1')).toMatchObject({ found: true, stored: { id: 'resp_open1' } });
      expect(await store.get('key_alice', 'resp_open1')).toEqual({ found: false, reason: 'missing' });
    });

    it('answers another key exactly as for an absent response, and lets it delete nothing', async () => {
      const store = await open();
      await store.save(storedResponse('resp_contract2', 'key_alice'));
      const absent = await store.get('key_bob', 'resp_never_made');
      expect(await store.get('key_bob', 'resp_contract2')).toEqual(absent);
      expect(await store.get(undefined, 'resp_contract2')).toEqual(absent);
      expect(await store.delete('key_bob', 'resp_contract2')).toBe(false);
      expect(await store.get('key_alice', 'resp_contract2')).toMatchObject({ found: true });
    });

    it('deletes a response for its key: it is gone, and a second delete finds nothing', async () => {
      const store = await open();
      await store.save(storedResponse('resp_contract3', 'key_alice'));
      expect(await store.delete('key_alice', 'resp_contract3')).toBe(true);
      expect(await store.get('key_alice', 'resp_contract3')).toEqual({ found: false, reason: 'missing' });
      expect(await store.delete('key_alice', 'resp_contract3')).toBe(false);
    });

    it('does not keep a response past the size bound, and tells its key why when asked for it', async () => {
      const store = await open({ ttlMs: HOUR_MS, maxBytesPerResponse: 2_048 });
      const large = storedResponse('resp_large', 'key_alice', 'x'.repeat(4_000));
      const outcome = await store.save(large);
      expect(outcome).toEqual({ saved: false, reason: 'too_large', bytes: expect.any(Number), limit: 2_048 });
      expect(outcome.bytes).toBeGreaterThan(4_000);
      expect(await store.get('key_alice', 'resp_large')).toEqual({ found: false, reason: 'too_large', bytes: outcome.bytes, limit: 2_048 });
      expect(await store.get('key_bob', 'resp_large')).toEqual({ found: false, reason: 'missing' });
      // A small one still fits under the same bound.
      expect(await store.save(storedResponse('resp_small', 'key_alice'))).toMatchObject({ saved: true });
    });

    it('forgets a response once its TTL has passed', async () => {
      const store = await open({ ttlMs: 300, maxBytesPerResponse: 64 * 1024 });
      await store.save(storedResponse('resp_short', 'key_alice'));
      await eventually(async () => (await store.get('key_alice', 'resp_short')).found === false, 10_000, 'the stored response to expire');
      expect(await store.get('key_alice', 'resp_short')).toEqual({ found: false, reason: 'missing' });
      expect(await store.delete('key_alice', 'resp_short')).toBe(false);
    });

    it('finds nothing for ids that are not response ids, and refuses to save one', async () => {
      const store = await open();
      for (const id of ['', 'resp_a:b', 'resp_*', '../resp', 'r'.repeat(201)]) {
        expect(await store.get('key_alice', id)).toEqual({ found: false, reason: 'missing' });
        expect(await store.delete('key_alice', id)).toBe(false);
      }
      await expect(store.save(storedResponse('resp_a:b', 'key_alice'))).rejects.toThrow(/not a response id/);
    });
  });
}
