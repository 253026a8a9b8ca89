import type { ApiKeyFields, ApiKeyRecord, IssuedKey, KeyStore } from './api-key.js';
import {
  byCreation,
  checkedGrace,
  newSecret,
  newStoredKey,
  publicRecord,
  revokedKey,
  rotatedKey,
  updatedKey,
  type StoredKey,
} from './stored-key.js';

/** A key as a store holds it, with its last use: what a persistent store writes and reads back. */
export interface KeyEntry {
  readonly stored: StoredKey;
  readonly lastUsedAt?: number;
}

export interface MemoryKeyStoreOptions {
  /** Keys to start with (a persistent store's, read back at start). */
  readonly restored?: Iterable<KeyEntry>;
  /** Called with a key's new stored form after each create, update, revoke and rotate. */
  readonly onChange?: (stored: StoredKey) => void;
}

/**
 * The keys of embedded mode, in this process (FileKeyStore keeps them across restarts). Secrets are kept as their
 * SHA-256 only, like in Redis; a rotation's grace ends by the `now` callers pass. Every method runs to its end without
 * awaiting, so concurrent calls never interleave.
 */
export class MemoryKeyStore implements KeyStore {
  private readonly keys = new Map<string, StoredKey>();
  /** SHA-256 of a current or previous secret → key id. */
  private readonly hashes = new Map<string, string>();
  private readonly lastUsed = new Map<string, number>();
  private readonly onChange: ((stored: StoredKey) => void) | undefined;

  constructor(options: MemoryKeyStoreOptions = {}) {
    this.onChange = options.onChange;
    for (const { stored, lastUsedAt } of options.restored ?? []) {
      this.keys.set(stored.id, stored);
      // A revoked key keeps no secret (as revoke leaves it).
      if (stored.revokedAt === undefined) {
        this.hashes.set(stored.secretHash, stored.id);
        if (stored.previousHash !== undefined) this.hashes.set(stored.previousHash, stored.id);
      }
      if (lastUsedAt !== undefined) this.lastUsed.set(stored.id, lastUsedAt);
    }
  }

  async create(fields: ApiKeyFields, now: number): Promise<IssuedKey> {
    const secret = newSecret();
    const stored = newStoredKey(fields, secret, now);
    this.keys.set(stored.id, stored);
    this.hashes.set(secret.hash, stored.id);
    this.onChange?.(stored);
    return { record: this.record(stored), secret: secret.secret };
  }

  async get(id: string): Promise<ApiKeyRecord | undefined> {
    const stored = this.keys.get(id);
    return stored && this.record(stored);
  }

  async list(): Promise<ApiKeyRecord[]> {
    return [...this.keys.values()].map((stored) => this.record(stored)).sort(byCreation);
  }

  async update(id: string, fields: Partial<ApiKeyFields>, _now: number): Promise<ApiKeyRecord | undefined> {
    const stored = this.keys.get(id);
    if (!stored) return undefined;
    const updated = updatedKey(stored, fields);
    this.keys.set(id, updated);
    this.onChange?.(updated);
    return this.record(updated);
  }

  async revoke(id: string, now: number): Promise<boolean> {
    const stored = this.keys.get(id);
    if (!stored) return false;
    this.forgetHashes(stored);
    const revoked = revokedKey(stored, now);
    this.keys.set(id, revoked);
    this.onChange?.(revoked);
    return true;
  }

  async rotate(id: string, graceMs: number, now: number): Promise<IssuedKey | undefined> {
    const grace = checkedGrace(graceMs);
    const stored = this.keys.get(id);
    if (!stored || stored.revokedAt !== undefined) return undefined;
    const secret = newSecret();
    const rotated = rotatedKey(stored, secret, grace, now);
    if (stored.previousHash !== undefined) this.hashes.delete(stored.previousHash);
    if (rotated.previousHash === undefined) this.hashes.delete(stored.secretHash);
    this.hashes.set(secret.hash, id);
    this.keys.set(id, rotated);
    this.onChange?.(rotated);
    return { record: this.record(rotated), secret: secret.secret };
  }

  async findByHash(secretHash: string, now: number): Promise<ApiKeyRecord | undefined> {
    const id = this.hashes.get(secretHash);
    const stored = id === undefined ? undefined : this.keys.get(id);
    if (!stored) return undefined;
    const inGrace = stored.previousHash === secretHash && now < (stored.previousUntil ?? 0);
    if (stored.secretHash !== secretHash && !inGrace) return undefined;
    // Expired keys are found too: the caller answers expired_api_key for them, whether it had them cached or not.
    return stored.revokedAt === undefined ? this.record(stored) : undefined;
  }

  touch(id: string, now: number): void {
    if (this.keys.has(id) && now > (this.lastUsed.get(id) ?? 0)) this.lastUsed.set(id, now);
  }

  async close(): Promise<void> {}

  /** Every key with its last use, as held now (records are never changed in place, so these stay as they are). */
  entries(): KeyEntry[] {
    return [...this.keys.values()].map((stored) => ({ stored, ...(this.lastUsed.has(stored.id) ? { lastUsedAt: this.lastUsed.get(stored.id)! } : {}) }));
  }

  private forgetHashes(stored: StoredKey): void {
    this.hashes.delete(stored.secretHash);
    if (stored.previousHash !== undefined) this.hashes.delete(stored.previousHash);
  }

  private record(stored: StoredKey): ApiKeyRecord {
    return publicRecord(stored, this.lastUsed.get(stored.id));
  }
}
