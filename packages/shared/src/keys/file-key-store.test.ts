import { appendFile, readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { describeKeyStoreContract } from '../test-support/key-store-contract.js';
import { recordingLogger, temporaryDirectory } from '../test-support/temporary-storage.js';
import type { ApiKeyFields } from './api-key.js';
import { FileKeyStore, type FileKeyStoreOptions } from './file-key-store.js';
import { hashSecret } from './secrets.js';

describeKeyStoreContract('FileKeyStore', async () => {
  let clock = 1_700_000_000_000;
  const directory = await temporaryDirectory();
  const store = await FileKeyStore.open({ path: join(directory.path, 'keys.jsonl'), logger: recordingLogger().logger, touchFlushMs: 10 });
  return {
    store,
    now: () => clock,
    pass: async (ms) => {
      clock += ms;
    },
    graceMs: 60_000,
    close: async () => {
      await store.close();
      await directory.remove();
    },
  };
});

describe('FileKeyStore across a restart', () => {
  const now = 1_700_000_000_000;
  const full: ApiKeyFields = {
    name: 'billing service',
    owner: { team: 'billing' },
    allowedModels: ['fast', 'auto'],
    limits: { requestsPerMinute: 60, tokensPerMinute: 10_000, concurrency: 4 },
    budget: { dailyUsd: 5, monthlyUsd: 100, softDailyUsd: 4 },
  };
  let directory: Awaited<ReturnType<typeof temporaryDirectory>>;
  let path: string;
  const stores: FileKeyStore[] = [];
  const open = async (options: Partial<FileKeyStoreOptions> = {}): Promise<FileKeyStore> => {
    const store = await FileKeyStore.open({ path, logger: recordingLogger().logger, ...options });
    stores.push(store);
    return store;
  };
  /** The store finds an expired key with its expiry (the authenticator refuses it as expired): usable means found and unexpired. */
  const works = async (store: FileKeyStore, secret: string, at: number) => {
    const found = await store.findByHash(hashSecret(secret), at);
    return found !== undefined && (found.expiresAt === undefined || found.expiresAt > at);
  };

  beforeEach(async () => {
    directory = await temporaryDirectory();
    path = join(directory.path, 'keys.jsonl');
  });
  afterEach(async () => {
    await Promise.all(stores.splice(0).map((store) => store.close()));
    await directory.remove();
  });

  it('gives back every key as it was: fields, last use, revocation, rotation grace, expiry', async () => {
    const store = await open();
    const expiring = await store.create({ ...full, expiresAt: now + 3_600_000 }, now);
    const revoked = await store.create({ name: 'revoked' }, now + 1);
    await store.revoke(revoked.record.id, now + 2);
    const graced = await store.create({ name: 'graced' }, now + 3);
    const rotatedWithGrace = await store.rotate(graced.record.id, 60_000, now + 4);
    const replaced = await store.create({ name: 'replaced' }, now + 5);
    const rotatedAtOnce = await store.rotate(replaced.record.id, 0, now + 6);
    const updated = await store.create(full, now + 7);
    await store.update(updated.record.id, { allowedModels: null, name: 'renamed' }, now + 8);
    store.touch(expiring.record.id, now + 9);
    const before = await store.list();
    await store.close();

    const reopened = await open();
    expect(await reopened.list()).toEqual(before);
    expect((await reopened.get(expiring.record.id))?.lastUsedAt).toBe(now + 9);
    expect((await reopened.get(updated.record.id))?.name).toBe('renamed');
    expect(await works(reopened, expiring.secret, now + 3_599_999)).toBe(true);
    expect(await works(reopened, expiring.secret, now + 3_600_000)).toBe(false);
    expect(await works(reopened, revoked.secret, now + 10)).toBe(false);
    expect(await works(reopened, graced.secret, now + 60_003)).toBe(true);
    expect(await works(reopened, graced.secret, now + 60_004)).toBe(false);
    expect(await works(reopened, rotatedWithGrace!.secret, now + 60_004)).toBe(true);
    expect(await works(reopened, replaced.secret, now + 10)).toBe(false);
    expect(await works(reopened, rotatedAtOnce!.secret, now + 10)).toBe(true);
  });

  it('has a change on disk when it resolves, and only hashes of secrets', async () => {
    const store = await open();
    const { record, secret } = await store.create(full, now);
    const text = await readFile(path, 'utf8');
    expect(text).toContain(record.id);
    expect(text).toContain(hashSecret(secret));
    expect(text).not.toContain(secret.slice(3));
    await store.revoke(record.id, now + 1);
    expect((await readFile(path, 'utf8')).trim().split('\n').at(-1)).toContain(`"revokedAt":${now + 1}`);
  });

  it('starts after a crash cut its last line short, with every whole line applied', async () => {
    const store = await open();
    const kept = await store.create({ name: 'kept' }, now);
    await store.close();
    await appendFile(path, `{"key":{"id":"key_torn","name":"to`);
    const reopened = await open();
    expect((await reopened.list()).map((record) => record.id)).toEqual([kept.record.id]);
    expect(await works(reopened, kept.secret, now)).toBe(true);
  });

  it('rewrites a grown journal into one line per key, losing no change', async () => {
    const store = await open({ touchFlushMs: 1, journal: { compactMinBytes: 4_096 } });
    const created = await Promise.all(Array.from({ length: 5 }, (_, index) => store.create({ name: `key ${index}` }, now + index)));
    for (let round = 0; round < 40; round += 1) {
      for (const { record } of created) await store.update(record.id, { limits: { requestsPerMinute: round + 1 } }, now);
    }
    // 200 updates of ~500 bytes each: about 100 KB without the rewrites.
    expect((await stat(path)).size).toBeLessThan(12_000);
    const before = await store.list();
    await store.close();
    const reopened = await open();
    expect(await reopened.list()).toEqual(before);
    expect(before.every((record) => record.limits.requestsPerMinute === 40)).toBe(true);
    for (const { secret } of created) expect(await works(reopened, secret, now)).toBe(true);
  });
});
