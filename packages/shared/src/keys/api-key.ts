import type { RateLimits } from '../state/limits.js';

/**
 * A client API key as stored: never its secret, only the SHA-256 of it. The secret (`dr-…`) is shown once, when the
 * key is created or rotated.
 */
export interface ApiKeyRecord {
  /** Stable id, `key_<random>`: what the admin API and usage records name. Not a secret. */
  readonly id: string;
  readonly name: string;
  /** Free-form owner facts (team, email, cost centre), strings only. */
  readonly owner: Readonly<Record<string, string>>;
  /** Model names (or aliases, groups, virtual models) this key may use; absent means every model. */
  readonly allowedModels?: readonly string[];
  /** Per-key limits: requests/min, tokens/min, concurrency; unset fields are unlimited. */
  readonly limits: RateLimits;
  /** USD per day and per month; unset is unlimited. `softDailyUsd`: above it `auto` routes as `eco` instead of refusing. */
  readonly budget: { readonly dailyUsd?: number; readonly monthlyUsd?: number; readonly softDailyUsd?: number };
  /** How this key's requests wait when the gateway or a deployment is saturated; unset fields take the defaults. */
  readonly queue?: KeyQueueSettings;
  /**
   * The response cache for this key's requests (when `cache.enabled`): true turns it on for every model and route,
   * false keeps it off whatever the config or the request say; absent, the config decides.
   */
  readonly cache?: boolean;
  /** Epoch ms; absent: never expires. */
  readonly expiresAt?: number;
  readonly createdAt: number;
  /** Epoch ms of the last request seen with this key (written at most about once a second per replica). */
  readonly lastUsedAt?: number;
  /** Epoch ms; set once revoked. A revoked key authenticates nothing. */
  readonly revokedAt?: number;
  /** The first characters of the current secret (`dr-AbC1`), to tell keys apart in lists. Not enough to use it. */
  readonly preview: string;
}

/** Queue priority classes, most urgent first. */
export const QUEUE_PRIORITIES = ['high', 'normal', 'low'] as const;
export type QueuePriority = (typeof QUEUE_PRIORITIES)[number];

/**
 * A key's place in the saturation queues (replica and deployment): its share and its class. Unset fields take the
 * defaults: weight 1, priority `normal`, the priority header as `saturation.priorityHeader` says.
 */
export interface KeyQueueSettings {
  /** Fair-share weight (deficit round robin): while both wait, a key of weight 2 is served twice as often as one of weight 1. */
  readonly weight?: number;
  /** Its requests' priority class: a class is served only when every more urgent one is empty. */
  readonly priority?: QueuePriority;
  /** Whether its requests may choose their class with `x-dosrouter-priority`; unset: `saturation.priorityHeader`. */
  readonly priorityHeader?: boolean;
}

/** What an admin may set when creating or updating a key. */
export interface ApiKeyFields {
  readonly name: string;
  readonly owner?: Readonly<Record<string, string>>;
  readonly allowedModels?: readonly string[] | null;
  readonly limits?: RateLimits;
  readonly budget?: ApiKeyRecord['budget'];
  readonly queue?: KeyQueueSettings;
  /** `null` clears it (the config decides). */
  readonly cache?: boolean | null;
  readonly expiresAt?: number | null;
}

/** A key and its secret, as returned once by create and rotate. */
export interface IssuedKey {
  readonly record: ApiKeyRecord;
  readonly secret: string;
}

/**
 * Where keys live: in memory (embedded mode) or Redis (cluster mode, shared by every replica). Lookups are by the
 * SHA-256 of the presented secret. Every method is safe to call concurrently from several replicas.
 */
export interface KeyStore {
  create(fields: ApiKeyFields, now: number): Promise<IssuedKey>;
  get(id: string): Promise<ApiKeyRecord | undefined>;
  list(): Promise<ApiKeyRecord[]>;
  /** Fields given replace the stored ones; `null` clears `allowedModels` or `expiresAt`. Undefined when there is no such key. */
  update(id: string, fields: Partial<ApiKeyFields>, now: number): Promise<ApiKeyRecord | undefined>;
  /** Revokes at once: every secret of the key stops working. False when there is no such key. */
  revoke(id: string, now: number): Promise<boolean>;
  /**
   * Issues a new secret. The old one keeps working for `graceMs` (0: it stops at once), then only the new one does.
   * Undefined when there is no such (unrevoked) key.
   */
  rotate(id: string, graceMs: number, now: number): Promise<IssuedKey | undefined>;
  /**
   * The key a secret's SHA-256 belongs to, if the secret is current or within its rotation grace and the key is not
   * revoked. An expired key is returned with its `expiresAt`: whether it may be used is the caller's decision.
   */
  findByHash(secretHash: string, now: number): Promise<ApiKeyRecord | undefined>;
  /** Records use; implementations may batch. */
  touch(id: string, now: number): void;
  close(): Promise<void>;
}
