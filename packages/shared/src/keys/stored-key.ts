import { QUEUE_PRIORITIES, type ApiKeyFields, type ApiKeyRecord, type KeyQueueSettings } from './api-key.js';
import { generateKeyId, generateSecret, hashSecret, previewOf } from './secrets.js';

/**
 * A key as both stores keep it: the public record (without `lastUsedAt`, kept apart because it changes on every
 * request) plus the SHA-256 of its current secret and, during a rotation's grace, of the previous one. Never the
 * secret itself. Internal to the stores: callers get {@link publicRecord}.
 */
export interface StoredKey extends Omit<ApiKeyRecord, 'lastUsedAt'> {
  readonly secretHash: string;
  /** The secret before the last rotation, while its grace lasts (the Redis store ends it with the entry's TTL). */
  readonly previousHash?: string;
  /** Epoch ms: the end of the previous secret's grace. */
  readonly previousUntil?: number;
}

type Mutable<T> = { -readonly [K in keyof T]: T[K] };

/** A fresh secret and what a store keeps of it. */
export interface NewSecret {
  readonly secret: string;
  readonly hash: string;
  readonly preview: string;
}

export function newSecret(): NewSecret {
  const secret = generateSecret();
  return { secret, hash: hashSecret(secret), preview: previewOf(secret) };
}

/** A new key's stored form, with a new id. */
export function newStoredKey(fields: ApiKeyFields, secret: NewSecret, now: number): StoredKey {
  checkFields(fields, true);
  const base: StoredKey = { id: generateKeyId(), name: '', owner: {}, limits: {}, budget: {}, createdAt: now, preview: secret.preview, secretHash: secret.hash };
  return withFields(base, fields);
}

/** The key with the given fields replacing its own; `null` clears `allowedModels` or `expiresAt`. */
export function updatedKey(stored: StoredKey, fields: Partial<ApiKeyFields>): StoredKey {
  checkFields(fields, false);
  return withFields(stored, fields);
}

function withFields(stored: StoredKey, fields: Partial<ApiKeyFields>): StoredKey {
  const next: Mutable<StoredKey> = { ...stored };
  if (fields.name !== undefined) next.name = fields.name;
  if (fields.owner !== undefined) next.owner = { ...fields.owner };
  if (fields.limits !== undefined) next.limits = { ...fields.limits };
  if (fields.budget !== undefined) next.budget = { ...fields.budget };
  if (fields.queue !== undefined) next.queue = { ...fields.queue };
  if (fields.cache === null) delete next.cache;
  else if (fields.cache !== undefined) next.cache = fields.cache;
  if (fields.allowedModels === null) delete next.allowedModels;
  else if (fields.allowedModels !== undefined) next.allowedModels = [...fields.allowedModels];
  if (fields.expiresAt === null) delete next.expiresAt;
  else if (fields.expiresAt !== undefined) next.expiresAt = fields.expiresAt;
  return next;
}

/**
 * The key after a rotation: the new secret is current; the old one is the previous secret for `graceMs` (none when
 * 0). A previous secret still in its grace from an earlier rotation ends now: a key has at most two secrets.
 */
export function rotatedKey(stored: StoredKey, secret: NewSecret, graceMs: number, now: number): StoredKey {
  const { previousHash: _hash, previousUntil: _until, ...rest } = stored;
  const rotated = { ...rest, secretHash: secret.hash, preview: secret.preview };
  return graceMs > 0 ? { ...rotated, previousHash: stored.secretHash, previousUntil: now + graceMs } : rotated;
}

/** The key revoked at `now` (an already revoked key keeps its first revocation time), with no secret in grace. */
export function revokedKey(stored: StoredKey, now: number): StoredKey {
  const { previousHash: _hash, previousUntil: _until, ...rest } = stored;
  return { ...rest, revokedAt: stored.revokedAt ?? now };
}

/** The rotation grace in whole milliseconds; throws on a negative or non-finite one. */
export function checkedGrace(graceMs: number): number {
  if (!Number.isFinite(graceMs) || graceMs < 0) throw new TypeError(`rotation grace must be a non-negative number of milliseconds, got ${graceMs}`);
  return Math.ceil(graceMs);
}

/** What callers see: a copy without the hashes, with the last use when known. */
export function publicRecord(stored: StoredKey, lastUsedAt: number | undefined): ApiKeyRecord {
  const { secretHash: _hash, previousHash: _previous, previousUntil: _until, ...record } = stored;
  return {
    ...record,
    owner: { ...record.owner },
    limits: { ...record.limits },
    budget: { ...record.budget },
    ...(record.queue ? { queue: { ...record.queue } } : {}),
    ...(record.allowedModels ? { allowedModels: [...record.allowedModels] } : {}),
    ...(lastUsedAt !== undefined ? { lastUsedAt } : {}),
  };
}

/** Whether a value read back (from Redis, from a journal) has the shape of a stored key. */
export function isStoredKey(value: unknown): value is StoredKey {
  const stored = value as Partial<StoredKey> | null;
  return typeof stored === 'object' && stored !== null && typeof stored.id === 'string' && typeof stored.secretHash === 'string';
}

/** Oldest first, then by id: the order `list` returns. */
export function byCreation(a: ApiKeyRecord, b: ApiKeyRecord): number {
  return a.createdAt - b.createdAt || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0);
}

/** Throws a TypeError naming the first field that cannot be stored (the admin API validates first; this is the floor). */
function checkFields(fields: Partial<ApiKeyFields>, creating: boolean): void {
  if (creating || fields.name !== undefined) {
    if (typeof fields.name !== 'string' || fields.name.trim() === '') throw new TypeError('an API key needs a non-empty name');
  }
  if (fields.owner !== undefined && (typeof fields.owner !== 'object' || fields.owner === null || Object.values(fields.owner).some((value) => typeof value !== 'string'))) {
    throw new TypeError('an API key owner must map names to strings');
  }
  if (fields.allowedModels != null && (!Array.isArray(fields.allowedModels) || fields.allowedModels.some((model) => typeof model !== 'string'))) {
    throw new TypeError('allowedModels must be a list of model names');
  }
  if (fields.expiresAt != null && !Number.isFinite(fields.expiresAt)) throw new TypeError('expiresAt must be epoch milliseconds');
  if (fields.queue !== undefined) checkQueue(fields.queue);
  if (fields.cache != null && typeof fields.cache !== 'boolean') throw new TypeError('cache must be true, false or null');
  for (const [section, values] of [['limits', fields.limits], ['budget', fields.budget]] as const) {
    if (values === undefined) continue;
    for (const [name, value] of Object.entries(values)) {
      if (value !== undefined && (typeof value !== 'number' || !Number.isFinite(value) || value < 0)) {
        throw new TypeError(`${section}.${name} must be a non-negative number`);
      }
    }
  }
}

function checkQueue(queue: KeyQueueSettings): void {
  if (typeof queue !== 'object' || queue === null) throw new TypeError('queue must be an object');
  if (queue.weight !== undefined && !(typeof queue.weight === 'number' && Number.isFinite(queue.weight) && queue.weight > 0)) throw new TypeError('queue.weight must be a positive number');
  if (queue.priority !== undefined && !(QUEUE_PRIORITIES as readonly string[]).includes(queue.priority)) throw new TypeError(`queue.priority must be one of ${QUEUE_PRIORITIES.join(', ')}`);
  if (queue.priorityHeader !== undefined && typeof queue.priorityHeader !== 'boolean') throw new TypeError('queue.priorityHeader must be true or false');
}
