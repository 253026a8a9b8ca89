/**
 * Every Redis key and channel DOSRouter uses, built in this one place: `<prefix>:<schema-version>:…`.
 * The prefix lets several deployments, and every test, share one Redis. Keys that one Lua script or one pipeline
 * touches together share a hash tag (`{…}`), so everything also runs on Redis Cluster, where a script or pipeline
 * must stay within one slot: `{limits}` (one admission script checks a key and several deployments), `{breakers}`,
 * `{stats}` (one flush writes every deployment's buckets), `{replicas}` (heartbeats, in-flight counts and info
 * records), `{weights}` (one script writes the health records, the document and its revision), `{apikeys}` (one script writes a client key's
 * record and its secret-hash entries), `{usage}` (one script counts records into the day totals and acknowledges
 * them on the stream), `{queues}` (BullMQ's queues) and `{cache}` (the response cache: one script stores an answer and
 * evicts others to stay within the byte budget). A key's spend counters are `{limits}`: the admission
 * script reads them. Stored responses have no hash tag: each is read and written alone, so they spread over a
 * cluster's slots instead of filling one node.
 */
export const KEY_SCHEMA_VERSION = 'v1';

export class RedisKeys {
  readonly base: string;

  constructor(prefix = 'dosrouter') {
    if (!/^[A-Za-z0-9._-]+$/.test(prefix)) throw new Error(`invalid Redis key prefix "${prefix}"`);
    this.base = `${prefix}:${KEY_SCHEMA_VERSION}`;
  }

  /** Hash { start, requests, tokens }: the current one-minute window of a rate-limit scope. TTL: the window. */
  limitWindow(scope: string): string {
    return `${this.base}:{limits}:window:${scope}`;
  }

  /**
   * Integer: what an API key spent (nano-USD) in one UTC period, `2026-11-24` or `2026-11`; read by the admission
   * script for budgets, added to as requests finish. TTL: a little past the period.
   */
  spend(keyId: string, period: string): string {
    return `${this.base}:{limits}:spend:${keyId}:${period}`;
  }

  /** Sorted set requestId → lease expiry (ms): requests in flight against a concurrency limit. TTL: the lease. */
  limitLeases(scope: string): string {
    return `${this.base}:{limits}:leases:${scope}`;
  }

  /**
   * Hash admission number → decision ('index keyStart deploymentStart estimate', or 'cancelled'): what one request's
   * admissions counted, so that an admission run twice counts once and one cancelled after a timeout is undone.
   * `requestId` is the gateway's own id for the request. Deleted when the request is released. TTL: a window (60 s)
   * or a lease, whichever is longer.
   */
  admissionRecord(requestId: string): string {
    return `${this.base}:{limits}:admission:${requestId}`;
  }

  /** String (JSON) while a deployment's circuit is open cluster-wide. TTL: the cooldown. */
  breaker(deployment: string): string {
    return `${this.base}:{breakers}:open:${deployment}`;
  }

  /** String holding the replica id that runs the one half-open trial request. TTL: the trial deadline. */
  breakerTrial(deployment: string): string {
    return `${this.base}:{breakers}:trial:${deployment}`;
  }

  /** Hash of one 10-second bucket of a deployment's rolling stats. TTL: the stats horizon. */
  statsBucket(deployment: string, bucketStartMs: number): string {
    return `${this.base}:{stats}:${deployment}:${bucketStartMs}`;
  }

  /** Hash deployment → requests in flight on one replica. TTL: a few heartbeats, so a dead replica's counts vanish. */
  inFlight(replica: string): string {
    return `${this.base}:{replicas}:inflight:${replica}`;
  }

  /**
   * Hash `h:<replica>` → slots held, `w:<replica>` → requests waiting: one deployment's `maxConcurrent` slots across
   * the replicas (shareDeploymentSlots.lua). A dead replica's fields are deleted by the next call. TTL: a minute.
   */
  deploymentSlots(deployment: string): string {
    return `${this.base}:{replicas}:slots:${deployment}`;
  }

  /** Sorted set replica id → last heartbeat (ms): the live gateway replicas. */
  replicas(): string {
    return `${this.base}:{replicas}:live`;
  }

  /**
   * String (JSON): one gateway replica's or prober's info record (id, role, version, config revision, Redis state,
   * last config reload), rewritten with its heartbeat. TTL: a few heartbeats, so a dead process's record vanishes.
   */
  replicaInfo(id: string): string {
    return `${this.base}:{replicas}:info:${id}`;
  }

  /** Sorted set process id → when it last wrote its info record (ms): the records readers list. TTL: ten minutes. */
  replicaInfoIndex(): string {
    return `${this.base}:{replicas}:info-index`;
  }

  /** String (JSON): the routing weights the prober published, a versioned document. No TTL: readers judge its age. */
  weightsDocument(): string {
    return `${this.base}:{weights}:document`;
  }

  /** Hash deployment id → the prober's health record (JSON) it computes the next weights from. No TTL. */
  weightsHealth(): string {
    return `${this.base}:{weights}:health`;
  }

  /** Integer: bumped by every write of the weights document, so concurrent probers never overwrite each other. */
  weightsRevision(): string {
    return `${this.base}:{weights}:revision`;
  }

  /**
   * The BullMQ prefix of the probe queue: its keys are `<prefix>:<queue>:…`. The hash tag keeps a queue's keys in one
   * slot on Redis Cluster, which BullMQ's scripts need.
   */
  queuePrefix(): string {
    return `${this.base}:{queues}`;
  }

  /** String (JSON): a client API key's record, with the SHA-256 of its secrets but never a secret. No TTL. */
  apiKey(id: string): string {
    return `${this.base}:{apikeys}:key:${id}`;
  }

  /**
   * String: the id of the key a secret's SHA-256 (hex) belongs to. No TTL while the secret is current; a previous
   * secret's entry expires when its rotation grace ends.
   */
  apiKeyHash(secretHash: string): string {
    return `${this.base}:{apikeys}:hash:${secretHash}`;
  }

  /** Set of every API key id, revoked ones included. */
  apiKeyIndex(): string {
    return `${this.base}:{apikeys}:index`;
  }

  /** Hash key id → when it was last used (ms), written by each replica about once a second. */
  apiKeysLastUsed(): string {
    return `${this.base}:{apikeys}:last-used`;
  }

  /**
   * Stream of usage records (field `r`: the record's JSON), written by the gateways and read by the consumer group
   * `aggregators`; an entry is deleted once counted. No TTL.
   */
  usageStream(): string {
    return `${this.base}:{usage}:stream`;
  }

  /** Hash `<model>\t<metric>` → integer: one API key's usage totals for one UTC day. TTL: the retention. */
  usageDay(day: string, keyId: string): string {
    return `${this.base}:{usage}:day:${day}:${keyId}`;
  }

  /** Set of the API key ids with usage on one UTC day (`-`: requests without a key). TTL: the retention. */
  usageKeys(day: string): string {
    return `${this.base}:{usage}:keys:${day}`;
  }

  /** String: marks a usage record (by its id) as counted, so that a duplicate entry is not. TTL: the dedupe window. */
  usageSeen(recordId: string): string {
    return `${this.base}:{usage}:seen:${recordId}`;
  }

  /** String (JSON): one cached answer, by the hash of everything that changes it. TTL: `cache.ttlSeconds`. */
  cacheEntry(hash: string): string {
    return `${this.cacheEntryPrefix()}${hash}`;
  }

  /** What `cacheEntry` puts before the hash: the cache's scripts build the keys of entries they evict from it. */
  cacheEntryPrefix(): string {
    return `${this.base}:{cache}:entry:`;
  }

  /** Hash entry hash → `<bytes>\t<model>`: every stored answer's size and model, for the budget and flushes. No TTL: scripts keep it in step. */
  cacheIndex(): string {
    return `${this.base}:{cache}:index`;
  }

  /** Sorted set entry hash → last access (ms): the eviction order (least recently used first). No TTL. */
  cacheAccess(): string {
    return `${this.base}:{cache}:access`;
  }

  /** Sorted set entry hash → expiry (ms): entries whose TTL ran out are swept from the index by the next store. No TTL. */
  cacheExpiry(): string {
    return `${this.base}:{cache}:expiry`;
  }

  /** Integer: the bytes of every stored answer, kept within `cache.maxBytes`. No TTL. */
  cacheBytes(): string {
    return `${this.base}:{cache}:bytes`;
  }

  /** Set of the entry hashes of one model: what a flush of that model deletes. No TTL. */
  cacheModel(model: string): string {
    return `${this.cacheModelPrefix()}${model}`;
  }

  cacheModelPrefix(): string {
    return `${this.base}:{cache}:model:`;
  }

  /**
   * String: the token (`<replica>:<random>`) of the request leading the flight of one cache key: identical requests
   * in flight wait for its answer instead of asking the backend. TTL: `cache.dedupe.lockTtlMs`, renewed by its replica.
   */
  cacheFlightLock(hash: string): string {
    return `${this.base}:{cache}:flight:${hash}`;
  }

  /** Stream of one flight's answer as its leader writes it (head, data, end or fail), read by followers. TTL: minutes. */
  cacheFlightStream(hash: string, token: string): string {
    return `${this.base}:{cache}:flight-stream:${hash}:${token}`;
  }

  /**
   * List (JSON entries, newest first): the requests one replica finished last, for the dashboard; written by that
   * replica's poll, capped at `dashboard.recentRequests`. TTL: an hour, so a replica gone keeps no list for long.
   */
  recentRequests(replica: string): string {
    return `${this.base}:{dashboard}:recent:${replica}`;
  }

  /**
   * String (JSON): a Responses API response stored with `store: true`, with the conversation that continues it
   * (responses/stored-response-document.ts). Named by the API key that made it (`-` without one), so that a key's
   * lookup can only ever reach its own. TTL: `responses.store.ttlSeconds`.
   */
  storedResponse(owner: string, responseId: string): string {
    return `${this.base}:responses:${owner}:${responseId}`;
  }

  /** Pub/sub channel announcing a new weights document (the message is the document). */
  weightsChannel(): string {
    return `${this.base}:events:weights`;
  }

  /** Pub/sub channel for breaker transitions. */
  breakerChannel(): string {
    return `${this.base}:events:breakers`;
  }

  /** Pub/sub channel announcing that an API key was created, updated, rotated or revoked (the message is its id). */
  apiKeysChannel(): string {
    return `${this.base}:events:apikeys`;
  }
}
