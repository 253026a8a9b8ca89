import { createHash } from 'node:crypto';
import { MemoryCacheStore, RedisCacheStore, RedisKeys, type ApiKeyRecord, type CacheStore, type GatewayConfig, type Logger, type RedisClient, type RedisHealth, type ResponseCacheConfig, type ScriptCommands } from '@dosrouter/shared';
import type { GatewayMetrics } from '../telemetry/metrics.js';
import { cacheKeyOf } from './cache-key.js';
import { CACHE_HEADER, cacheModeOf } from './cache-policy.js';
import { CacheTicket, type CacheRequest } from './cache-ticket.js';
import { parseCachedAnswer, type CachedAnswer } from './cached-answer.js';
import { LocalFlights, type Flights } from './flights/flight.js';
import { RedisFlights } from './flights/redis-flights.js';

/**
 * The response cache on the request path (docs/configuration.md, "Response cache"). `open` decides, without I/O,
 * whether the cache is on for a request; only then does the request pay for a lookup (one Redis round trip in cluster
 * mode). A hit is written to the client from the stored bytes; a miss tees the answer on its way to the client and
 * stores it once the response is finished whole.
 */
export class ResponseCache {
  constructor(
    private readonly config: ResponseCacheConfig,
    readonly store: CacheStore,
    private readonly metrics: GatewayMetrics,
    private readonly logger: Logger,
    /** In-flight de-duplication (`cache.dedupe.enabled`). */
    readonly flights?: Flights,
    /** Cluster mode: while Redis is down or slow, lookups are skipped (a miss) instead of waiting for their deadline. */
    private readonly health?: RedisHealth,
    private readonly clock: () => number = Date.now,
  ) {}

  private lastWarningAt = -Infinity;

  /** A failure of the store, logged at most once a minute (a Redis outage would otherwise log every request). */
  private warn(message: string, error: unknown): void {
    this.health?.markFailure(error);
    const now = this.clock();
    if (now - this.lastWarningAt < 60_000) return;
    this.lastWarningAt = now;
    this.logger.warn(message, { error: error instanceof Error ? error.message : String(error) });
  }

  close(): Promise<void> {
    return this.flights?.close() ?? Promise.resolve();
  }

  /** The request's ticket, or undefined when the cache is off for it (nothing else is done then). Throws a 400 on a bad header. */
  open(request: CacheRequest): CacheTicket | undefined {
    // What the client sent: a Messages or Responses body passes to a backend of its own protocol whole, not as its Chat translation.
    const sent = request.proxied.messages ?? request.proxied.responses;
    const body = sent ? (sent as unknown as Record<string, unknown>) : request.proxied.body;
    const mode = cacheModeOf(this.config, {
      route: request.route,
      model: request.plan.target,
      operation: request.operation,
      keyCache: request.apiKey?.cache,
      header: request.headers[CACHE_HEADER],
      cacheControl: request.headers['cache-control'],
      body: request.proxied.body,
    });
    if (mode === 'off') return undefined;
    const hash = cacheKeyOf({
      protocol: request.ingress.protocol ?? request.route,
      model: request.plan.target,
      ...(request.plan.classification ? { tier: request.plan.classification.tier } : {}),
      scope: this.config.scope === 'shared' ? 'shared' : ownerOf(request.apiKey, request.credential),
      stream: request.proxied.stream,
      body,
      headers: passedHeadersOf(request),
    });
    return new CacheTicket(this, this.config, mode, hash, request);
  }

  /** The ticket's lookup: a stored answer, or undefined (none, unreadable, or the store failed). */
  async lookup(hash: string): Promise<CachedAnswer | undefined> {
    // A cache that cannot answer is a miss: the request goes to the backend as it would without a cache.
    if (this.health && !this.health.shouldTry()) return undefined;
    try {
      const text = await this.store.get(hash);
      return text === undefined ? undefined : parseCachedAnswer(text);
    } catch (error) {
      this.warn('the response cache could not be read: requests are served as misses', error);
      return undefined;
    }
  }

  /** Stores a finished answer; only the flight's followers wait for it (the client has it already). */
  save(hash: string, answer: CachedAnswer): Promise<void> {
    const value = JSON.stringify(answer);
    if (Buffer.byteLength(value) > this.config.maxEntryBytes) {
      this.metrics.recordCacheStore('too_large');
      return Promise.resolve();
    }
    return this.store.put({ hash, model: answer.model, value, ttlMs: this.config.ttlSeconds * 1_000 }).then(
      (result) => this.metrics.recordCacheStore(result.stored ? 'stored' : 'too_large', result.evicted),
      (error: unknown) => {
        this.metrics.recordCacheStore('failed');
        this.warn('an answer could not be stored in the response cache', error);
      },
    );
  }

  get metricsSink(): GatewayMetrics {
    return this.metrics;
  }

  now(): number {
    return this.clock();
  }
}

/** `cache.enabled`: the cache in Redis (cluster mode) or in memory (embedded); undefined when it is off. */
export function responseCacheFor(
  config: GatewayConfig,
  cluster: { readonly redis?: RedisClient & ScriptCommands; readonly replica: string; readonly health?: RedisHealth },
  metrics: GatewayMetrics,
  logger: Logger,
): ResponseCache | undefined {
  const settings = config.cache;
  if (!settings.enabled) return undefined;
  const keys = new RedisKeys(config.redis.keyPrefix);
  const { redis } = cluster;
  const store = redis ? new RedisCacheStore(redis, keys, settings.maxBytes) : new MemoryCacheStore(settings.maxBytes);
  const flights = !settings.dedupe.enabled ? undefined : redis ? new RedisFlights(redis, keys, cluster.replica, settings.dedupe.lockTtlMs, logger, cluster.health) : new LocalFlights();
  return new ResponseCache(settings, store, metrics, logger, flights, cluster.health);
}

/** Under `scope: key`: the key's id, or (without API keys) a hash of the credential the client sent. */
function ownerOf(apiKey: ApiKeyRecord | undefined, credential: string | undefined): string {
  if (apiKey) return `key:${apiKey.id}`;
  return `credential:${createHash('sha256').update(credential ?? '').digest('hex')}`;
}

/** The request's headers its ingress passes on to a backend (they may change the answer), joined as the ingress joins them. */
function passedHeadersOf(request: CacheRequest): Record<string, string> {
  const passed: Record<string, string> = {};
  for (const name of request.ingress.passedHeaders ?? []) {
    const value = request.headers[name];
    if (value !== undefined) passed[name] = Array.isArray(value) ? value.join(',') : value;
  }
  return passed;
}
