import { readFileSync } from 'node:fs';
import type { RedisKeys } from '../state/keys.js';
import type { RedisClient } from '../state/redis/connection.js';
import type { ApiKeyFields, ApiKeyRecord, IssuedKey, KeyStore } from './api-key.js';
import {
  byCreation,
  checkedGrace,
  isStoredKey,
  newSecret,
  newStoredKey,
  publicRecord,
  revokedKey,
  rotatedKey,
  updatedKey,
  type StoredKey,
} from './stored-key.js';

/**
 * The key store's Lua scripts (in `state/lua/`, copied next to the build), registered like `registerScripts` does
 * for the others: versioned names, so two releases sharing a Redis never run each other's scripts.
 */
const KEY_SCRIPT_FILES = {
  dosrouterSaveApiKeyV1: 'saveApiKey.lua',
  dosrouterTouchApiKeysV1: 'touchApiKeys.lua',
} as const;

type KeyScriptCommands = {
  [name in keyof typeof KEY_SCRIPT_FILES]: (numberOfKeys: number, ...keysAndArguments: (string | number)[]) => Promise<unknown>;
};

function withKeyScripts(redis: RedisClient): RedisClient & KeyScriptCommands {
  for (const [name, file] of Object.entries(KEY_SCRIPT_FILES)) {
    if (!(name in redis)) redis.defineCommand(name, { lua: readFileSync(new URL(`../state/lua/${file}`, import.meta.url), 'utf8') });
  }
  return redis as RedisClient & KeyScriptCommands;
}

/** What a write does to one secret-hash entry: point it at the key for good, delete it, or let it expire in ms. */
type HashAction = 'keep' | 'drop' | number;

interface Change<T> {
  readonly stored: StoredKey;
  readonly hashes: readonly (readonly [secretHash: string, action: HashAction])[];
  readonly result: T;
}

export interface RedisKeyStoreOptions {
  /** How long `touch` batches last-use times before writing them (ms): at most one write per key per period. */
  readonly touchFlushMs?: number;
}

/** How often a write is tried again when another writer changed the key in between. */
const MAX_WRITE_ATTEMPTS = 25;

const SHA256_HEX = /^[0-9a-f]{64}$/;

/**
 * Client keys shared by every replica through Redis (layout in {@link RedisKeys}, all under the `{apikeys}` hash
 * tag): a JSON record per key, a string per secret hash naming the key's id, a set of ids and a hash of last-use
 * times. Only SHA-256 hashes of secrets are written. A rotation's previous secret is an entry with the grace as its
 * TTL, so Redis itself ends the grace. Every write is one script that compares the record it read and sets the new
 * record and the hash entries together, then announces the id on `apiKeysChannel()`; nothing is cached here, so
 * every replica sees a change on its next lookup.
 */
export class RedisKeyStore implements KeyStore {
  private readonly redis: RedisClient & KeyScriptCommands;
  private readonly touchFlushMs: number;
  private pendingTouches = new Map<string, number>();
  private touchTimer: NodeJS.Timeout | undefined;
  private closed = false;

  constructor(
    redis: RedisClient,
    private readonly keys: RedisKeys,
    options: RedisKeyStoreOptions = {},
  ) {
    this.redis = withKeyScripts(redis);
    this.touchFlushMs = options.touchFlushMs ?? 1_000;
  }

  async create(fields: ApiKeyFields, now: number): Promise<IssuedKey> {
    const secret = newSecret();
    const stored = newStoredKey(fields, secret, now);
    if (!(await this.save('', stored, [[secret.hash, 'keep']]))) throw new Error(`API key id ${stored.id} is already taken`);
    return { record: publicRecord(stored, undefined), secret: secret.secret };
  }

  async get(id: string): Promise<ApiKeyRecord | undefined> {
    const found = await this.read(id);
    return found && publicRecord(found.stored, found.lastUsedAt);
  }

  async list(): Promise<ApiKeyRecord[]> {
    const ids = await this.redis.smembers(this.keys.apiKeyIndex());
    if (ids.length === 0) return [];
    const [raws, lastUsed] = await Promise.all([
      this.redis.mget(...ids.map((id) => this.keys.apiKey(id))),
      this.redis.hmget(this.keys.apiKeysLastUsed(), ...ids),
    ]);
    const records: ApiKeyRecord[] = [];
    raws.forEach((raw, index) => {
      if (raw !== null) records.push(publicRecord(parseStored(raw), parseTime(lastUsed[index])));
    });
    return records.sort(byCreation);
  }

  async update(id: string, fields: Partial<ApiKeyFields>, _now: number): Promise<ApiKeyRecord | undefined> {
    return this.change(id, (stored, lastUsedAt) => {
      const updated = updatedKey(stored, fields);
      return { stored: updated, hashes: [], result: publicRecord(updated, lastUsedAt) };
    });
  }

  async revoke(id: string, now: number): Promise<boolean> {
    const revoked = await this.change(id, (stored) => ({ stored: revokedKey(stored, now), hashes: secretHashes(stored, 'drop'), result: true }));
    return revoked ?? false;
  }

  async rotate(id: string, graceMs: number, now: number): Promise<IssuedKey | undefined> {
    const grace = checkedGrace(graceMs);
    const secret = newSecret();
    return this.change(id, (stored, lastUsedAt) => {
      if (stored.revokedAt !== undefined) return undefined;
      const rotated = rotatedKey(stored, secret, grace, now);
      const hashes: [string, HashAction][] = [
        [secret.hash, 'keep'],
        [stored.secretHash, grace > 0 ? grace : 'drop'],
      ];
      if (stored.previousHash !== undefined) hashes.push([stored.previousHash, 'drop']);
      return { stored: rotated, hashes, result: { record: publicRecord(rotated, lastUsedAt), secret: secret.secret } };
    });
  }

  async findByHash(secretHash: string, _now: number): Promise<ApiKeyRecord | undefined> {
    if (!SHA256_HEX.test(secretHash)) return undefined;
    const id = await this.redis.get(this.keys.apiKeyHash(secretHash));
    const found = id === null ? undefined : await this.read(id);
    if (!found) return undefined;
    // The entry exists, so the secret is current or within its grace (the entry's TTL). The record is checked too,
    // in case a write landed between the two reads.
    if (found.stored.secretHash !== secretHash && found.stored.previousHash !== secretHash) return undefined;
    // Expired keys are found too: the caller answers expired_api_key for them, whether it had them cached or not.
    return found.stored.revokedAt === undefined ? publicRecord(found.stored, found.lastUsedAt) : undefined;
  }

  touch(id: string, now: number): void {
    if (this.closed) return;
    this.rememberTouch(id, now);
    this.scheduleFlush();
  }

  /** Writes the batched last-use times now (`close` does too). */
  async flush(): Promise<void> {
    if (this.pendingTouches.size === 0) return;
    const batch = this.pendingTouches;
    this.pendingTouches = new Map();
    const ids = [...batch.keys()];
    try {
      await this.redis.dosrouterTouchApiKeysV1(
        1 + ids.length,
        this.keys.apiKeysLastUsed(),
        ...ids.map((id) => this.keys.apiKey(id)),
        ...ids.flatMap((id) => [id, batch.get(id) ?? 0]),
      );
    } catch (error) {
      for (const [id, usedAt] of batch) this.rememberTouch(id, usedAt);
      throw error;
    }
  }

  /** Writes what `touch` still holds; the connection stays open (it is the caller's). */
  async close(): Promise<void> {
    this.closed = true;
    clearTimeout(this.touchTimer);
    this.touchTimer = undefined;
    await this.flush().catch(() => undefined);
  }

  private rememberTouch(id: string, usedAt: number): void {
    if (usedAt > (this.pendingTouches.get(id) ?? 0)) this.pendingTouches.set(id, usedAt);
  }

  private scheduleFlush(): void {
    if (this.touchTimer || this.closed) return;
    this.touchTimer = setTimeout(() => {
      this.touchTimer = undefined;
      // A failed write keeps its times for the next try.
      this.flush().catch(() => this.scheduleFlush());
    }, this.touchFlushMs);
    this.touchTimer.unref();
  }

  private async read(id: string): Promise<{ raw: string; stored: StoredKey; lastUsedAt: number | undefined } | undefined> {
    const [raw, lastUsed] = await Promise.all([this.redis.get(this.keys.apiKey(id)), this.redis.hget(this.keys.apiKeysLastUsed(), id)]);
    return raw === null ? undefined : { raw, stored: parseStored(raw), lastUsedAt: parseTime(lastUsed) };
  }

  /**
   * Reads a key, lets `next` decide its new state, and writes it unless another writer got there first; then reads
   * again and retries. Undefined when there is no such key or `next` declines.
   */
  private async change<T>(id: string, next: (stored: StoredKey, lastUsedAt: number | undefined) => Change<T> | undefined): Promise<T | undefined> {
    for (let attempt = 0; attempt < MAX_WRITE_ATTEMPTS; attempt += 1) {
      const found = await this.read(id);
      if (!found) return undefined;
      const change = next(found.stored, found.lastUsedAt);
      if (!change) return undefined;
      if (await this.save(found.raw, change.stored, change.hashes)) return change.result;
    }
    throw new Error(`API key ${id} kept changing while being written (${MAX_WRITE_ATTEMPTS} attempts)`);
  }

  /** The saveApiKey script: false when the record is no longer `expected` ('' : when it exists already). */
  private async save(expected: string, stored: StoredKey, hashes: Change<unknown>['hashes']): Promise<boolean> {
    const written = await this.redis.dosrouterSaveApiKeyV1(
      2 + hashes.length,
      this.keys.apiKey(stored.id),
      this.keys.apiKeyIndex(),
      ...hashes.map(([secretHash]) => this.keys.apiKeyHash(secretHash)),
      expected,
      JSON.stringify(stored),
      stored.id,
      this.keys.apiKeysChannel(),
      ...hashes.map(([, action]) => String(action)),
    );
    return written === 1;
  }
}

/** Every secret hash of a key, each with the same action. */
function secretHashes(stored: StoredKey, action: HashAction): [string, HashAction][] {
  return [stored.secretHash, stored.previousHash].filter((hash) => hash !== undefined).map((hash) => [hash, action]);
}

function parseStored(raw: string): StoredKey {
  let stored: unknown;
  try {
    stored = JSON.parse(raw);
  } catch {
    // Reported below.
  }
  if (!isStoredKey(stored)) throw new Error('malformed API key record in Redis');
  return stored;
}

function parseTime(value: string | null | undefined): number | undefined {
  return value == null ? undefined : Number(value);
}
