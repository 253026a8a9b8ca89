/**
 * Test support: the behaviour every KeyStore must show, run by the memory and the Redis store's tests. Not exported
 * from the package.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { ApiKeyFields, KeyStore } from '../keys/api-key.js';
import { generateSecret, hashSecret, looksLikeKey, previewOf } from '../keys/secrets.js';
import { eventually } from './eventually.js';

export interface KeyStoreFixture {
  /** An empty store of its own. */
  readonly store: KeyStore;
  /** The time to pass as `now`. */
  now(): number;
  /** Lets `ms` go by: a virtual clock moves; with a real one there is nothing to do (the checks that follow poll). */
  pass(ms: number): Promise<void>;
  /** A rotation grace short enough to wait out, long enough to check both secrets within it on a busy machine. */
  readonly graceMs: number;
  close(): Promise<void>;
}

export function describeKeyStoreContract(name: string, makeFixture: () => Promise<KeyStoreFixture>): void {
  describe(`${name}: the KeyStore contract`, () => {
    let fixture: KeyStoreFixture;
    let store: KeyStore;
    beforeEach(async () => {
      fixture = await makeFixture();
      store = fixture.store;
    });
    afterEach(() => fixture.close());

    const full: ApiKeyFields = {
      name: 'billing service',
      owner: { team: 'billing', email: 'billing@example.com' },
      allowedModels: ['gpt-4o-mini', 'auto'],
      limits: { requestsPerMinute: 60, tokensPerMinute: 10_000, concurrency: 4 },
      budget: { dailyUsd: 5, monthlyUsd: 100, softDailyUsd: 4 },
      queue: { weight: 2.5, priority: 'high', priorityHeader: true },
    };
    const works = async (secret: string, now = fixture.now()) => (await store.findByHash(hashSecret(secret), now)) !== undefined;

    it('creates a key: its secret is given once, in the dr- format, and the record holds neither it nor its hash', async () => {
      const now = fixture.now();
      const { record, secret } = await store.create({ ...full, expiresAt: now + 86_400_000 }, now);
      expect(looksLikeKey(secret)).toBe(true);
      expect(record).toEqual({ ...full, id: expect.stringMatching(/^key_[A-Za-z0-9_-]{16}$/), expiresAt: now + 86_400_000, createdAt: now, preview: previewOf(secret) });
      expect(await store.get(record.id)).toEqual(record);
      for (const shown of [JSON.stringify(record), JSON.stringify(await store.list())]) {
        expect(shown).not.toContain(secret.slice(3));
        expect(shown).not.toContain(hashSecret(secret));
      }
    });

    it('fills in empty owner, limits and budget, and refuses a key without a name', async () => {
      const { record } = await store.create({ name: 'bare' }, fixture.now());
      expect(record).toMatchObject({ owner: {}, limits: {}, budget: {} });
      expect(record).not.toHaveProperty('allowedModels');
      expect(record).not.toHaveProperty('expiresAt');
      await expect(store.create({ name: ' ' }, fixture.now())).rejects.toThrow(/name/);
    });

    it('finds a key by the SHA-256 of its secret, and by nothing else', async () => {
      const { record, secret } = await store.create(full, fixture.now());
      expect(await store.findByHash(hashSecret(secret), fixture.now())).toEqual(record);
      expect(await store.findByHash(hashSecret(generateSecret()), fixture.now())).toBeUndefined();
      expect(await store.findByHash(secret, fixture.now())).toBeUndefined();
      expect(await store.findByHash(hashSecret(secret).toUpperCase(), fixture.now())).toBeUndefined();
    });

    it('updates the fields given, keeps the others, and clears allowedModels and expiresAt with null', async () => {
      const now = fixture.now();
      const { record, secret } = await store.create({ ...full, expiresAt: now + 60_000 }, now);
      const renamed = await store.update(record.id, { name: 'billing v2', limits: { requestsPerMinute: 5 } }, now);
      expect(renamed).toEqual({ ...record, name: 'billing v2', limits: { requestsPerMinute: 5 } });
      const cleared = await store.update(record.id, { allowedModels: null, expiresAt: null }, now);
      expect(cleared).not.toHaveProperty('allowedModels');
      expect(cleared).not.toHaveProperty('expiresAt');
      expect(await store.get(record.id)).toEqual(cleared);
      expect(cleared).toMatchObject({ preview: record.preview, createdAt: now, owner: full.owner });
      expect(await works(secret)).toBe(true);
      await expect(store.update(record.id, { name: '' }, now)).rejects.toThrow(/name/);
    });

    it('answers undefined or false for an unknown id', async () => {
      const now = fixture.now();
      expect(await store.get('key_doesnotexist0000')).toBeUndefined();
      expect(await store.update('key_doesnotexist0000', { name: 'x' }, now)).toBeUndefined();
      expect(await store.rotate('key_doesnotexist0000', 0, now)).toBeUndefined();
      expect(await store.revoke('key_doesnotexist0000', now)).toBe(false);
      expect(await store.list()).toEqual([]);
    });

    it('lists every key, revoked ones included, oldest first', async () => {
      const now = fixture.now();
      const second = await store.create({ name: 'second' }, now + 1);
      const first = await store.create({ name: 'first' }, now);
      await store.revoke(second.record.id, now + 2);
      expect((await store.list()).map((record) => [record.name, record.revokedAt])).toEqual([
        ['first', undefined],
        ['second', now + 2],
      ]);
      expect((await store.list())[0]).toEqual(first.record);
    });

    it('revokes at once: the secret stops working, the key cannot be rotated, a second revocation keeps the first time', async () => {
      const now = fixture.now();
      const { record, secret } = await store.create(full, now);
      expect(await store.revoke(record.id, now + 1)).toBe(true);
      expect(await works(secret, now + 1)).toBe(false);
      expect(await store.get(record.id)).toEqual({ ...record, revokedAt: now + 1 });
      expect(await store.rotate(record.id, 0, now + 2)).toBeUndefined();
      expect(await store.revoke(record.id, now + 3)).toBe(true);
      expect((await store.get(record.id))?.revokedAt).toBe(now + 1);
    });

    it('rotates with a grace: both secrets work until it ends, then only the new one', async () => {
      const { record, secret: old } = await store.create(full, fixture.now());
      const rotated = await store.rotate(record.id, fixture.graceMs, fixture.now());
      if (!rotated) throw new Error('expected a rotation');
      expect(looksLikeKey(rotated.secret)).toBe(true);
      expect(rotated.secret).not.toBe(old);
      expect(rotated.record).toEqual({ ...record, preview: previewOf(rotated.secret) });
      expect(await works(old)).toBe(true);
      expect(await works(rotated.secret)).toBe(true);
      expect(await store.findByHash(hashSecret(old), fixture.now())).toEqual(rotated.record);
      await fixture.pass(fixture.graceMs);
      await eventually(async () => !(await works(old)), fixture.graceMs + 5_000, 'the old secret stops working');
      expect(await works(rotated.secret)).toBe(true);
    });

    it('rotates with no grace: the old secret stops at once', async () => {
      const { record, secret: old } = await store.create(full, fixture.now());
      const rotated = await store.rotate(record.id, 0, fixture.now());
      expect(await works(old)).toBe(false);
      expect(await works(rotated!.secret)).toBe(true);
    });

    it('keeps at most two secrets: a second rotation ends the first one’s grace at once', async () => {
      const { record, secret: first } = await store.create(full, fixture.now());
      const second = await store.rotate(record.id, 60_000, fixture.now());
      const third = await store.rotate(record.id, 60_000, fixture.now());
      expect(await works(first)).toBe(false);
      expect(await works(second!.secret)).toBe(true);
      expect(await works(third!.secret)).toBe(true);
    });

    it('revoking during a grace ends both secrets', async () => {
      const { record, secret: old } = await store.create(full, fixture.now());
      const rotated = await store.rotate(record.id, 60_000, fixture.now());
      await store.revoke(record.id, fixture.now());
      expect(await works(old)).toBe(false);
      expect(await works(rotated!.secret)).toBe(false);
    });

    it('refuses a negative grace', async () => {
      const { record } = await store.create(full, fixture.now());
      await expect(store.rotate(record.id, -1, fixture.now())).rejects.toThrow(/grace/);
    });

    it('finds an expired key with its expiry (the caller refuses it as expired), and without once the expiry is cleared', async () => {
      const now = fixture.now();
      const { record, secret } = await store.create({ ...full, expiresAt: now + 1_000 }, now);
      expect(await store.findByHash(hashSecret(secret), now + 1_000)).toEqual(record);
      expect(await store.get(record.id)).toEqual(record);
      await store.update(record.id, { expiresAt: null }, now + 1_000);
      expect((await store.findByHash(hashSecret(secret), now + 1_000))?.expiresAt).toBeUndefined();
    });

    it('records the last use, never moving it back, and only for keys that exist', async () => {
      const now = fixture.now();
      const { record, secret } = await store.create(full, now);
      store.touch(record.id, now + 5);
      store.touch(record.id, now + 2);
      store.touch('key_doesnotexist0000', now);
      await eventually(async () => (await store.get(record.id))?.lastUsedAt === now + 5);
      expect((await store.findByHash(hashSecret(secret), now + 6))?.lastUsedAt).toBe(now + 5);
      expect((await store.list()).map((listed) => listed.id)).toEqual([record.id]);
      expect(await store.get('key_doesnotexist0000')).toBeUndefined();
    });

    it('leaves exactly one current secret after concurrent rotations', async () => {
      const { record, secret: original } = await store.create(full, fixture.now());
      const rotations = await Promise.all(Array.from({ length: 6 }, () => store.rotate(record.id, 0, fixture.now())));
      const secrets = [original, ...rotations.map((rotation) => rotation!.secret)];
      const working = [];
      for (const secret of secrets) if (await works(secret)) working.push(secret);
      expect(working).toHaveLength(1);
      expect((await store.get(record.id))?.preview).toBe(previewOf(working[0]!));
    });

    it('loses neither of a concurrent update and rotation', async () => {
      const { record, secret: old } = await store.create(full, fixture.now());
      const [, rotated] = await Promise.all([store.update(record.id, { name: 'renamed' }, fixture.now()), store.rotate(record.id, 0, fixture.now())]);
      expect(await store.get(record.id)).toMatchObject({ name: 'renamed', preview: previewOf(rotated!.secret) });
      expect(await works(rotated!.secret)).toBe(true);
      expect(await works(old)).toBe(false);
    });
  });
}
