import { createHash } from 'node:crypto';
import type { IncomingHttpHeaders, ServerResponse } from 'node:http';
import { MemoryCacheStore, RedisCacheStore, RedisKeys, formatUsd, type ApiKeyRecord, type CacheStore, type GatewayConfig, type Logger, type ResponseCacheConfig, type RoutePlan } from '@dosrouter/shared';
import type { Ingress } from '../proxy/ingress/ingress.js';
import type { RequestContext } from '../request/request-context.js';
import type { GatewayMetrics } from '../telemetry/metrics.js';
import type { AnswerWriter } from '../upstream/attempt.js';
import type { ProxiedRequest } from '../validation/request-fields.js';
import { AnswerCapture } from './answer-capture.js';
import { cacheKeyOf } from './cache-key.js';
import { CACHE_HEADER, cacheModeOf, type CacheMode } from './cache-policy.js';
import { callsTools, parseCachedAnswer, type CachedAnswer } from './cached-answer.js';

/** Where in the request's path a hit is served: before admission (hits skip the key's limits) or after it. */
export type CacheStage = 'planned' | 'admitted';

export interface CacheRequest {
  readonly headers: IncomingHttpHeaders;
  readonly response: ServerResponse;
  readonly context: RequestContext;
  readonly proxied: ProxiedRequest;
  readonly plan: RoutePlan;
  readonly operation: string;
  /** The route's own path. */
  readonly route: string;
  readonly ingress: Ingress;
  readonly apiKey: ApiKeyRecord | undefined;
  readonly credential: string | undefined;
}

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
    private readonly clock: () => number = Date.now,
  ) {}

  /** The request's ticket, or undefined when the cache is off for it (nothing else is done then). Throws a 400 on a bad header. */
  open(request: CacheRequest): CacheTicket | undefined {
    const body = request.proxied.messages ? (request.proxied.messages as unknown as Record<string, unknown>) : request.proxied.body;
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
    });
    return new CacheTicket(this, this.config, mode, hash, request);
  }

  /** @internal The ticket's lookup: a stored answer, or undefined (none, unreadable, or the store failed). */
  async lookup(hash: string): Promise<CachedAnswer | undefined> {
    try {
      const text = await this.store.get(hash);
      return text === undefined ? undefined : parseCachedAnswer(text);
    } catch (error) {
      // A cache that cannot answer is a miss: the request goes to the backend as it would without a cache.
      this.logger.warn('the response cache could not be read: served as a miss', { error: error instanceof Error ? error.message : String(error) });
      return undefined;
    }
  }

  /** @internal Stores a finished answer, not awaited by anyone: the client has it already. */
  save(hash: string, answer: CachedAnswer): void {
    const value = JSON.stringify(answer);
    if (Buffer.byteLength(value) > this.config.maxEntryBytes) {
      this.metrics.recordCacheStore('too_large');
      return;
    }
    this.store.put({ hash, model: answer.model, value, ttlMs: this.config.ttlSeconds * 1_000 }).then(
      (result) => this.metrics.recordCacheStore(result.stored ? 'stored' : 'too_large', result.evicted),
      (error: unknown) => {
        this.metrics.recordCacheStore('failed');
        this.logger.warn('an answer could not be stored in the response cache', { error: error instanceof Error ? error.message : String(error) });
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
export function responseCacheFor(config: GatewayConfig, redis: ConstructorParameters<typeof RedisCacheStore>[0] | undefined, metrics: GatewayMetrics, logger: Logger): ResponseCache | undefined {
  const settings = config.cache;
  if (!settings.enabled) return undefined;
  const store = redis ? new RedisCacheStore(redis, new RedisKeys(config.redis.keyPrefix), settings.maxBytes) : new MemoryCacheStore(settings.maxBytes);
  return new ResponseCache(settings, store, metrics, logger);
}

/** One request's dealings with the cache: its mode and key, the hit it may be served, the answer it may store. */
export class CacheTicket {
  private capture: AnswerCapture | undefined;

  constructor(
    private readonly cache: ResponseCache,
    private readonly config: ResponseCacheConfig,
    readonly mode: Exclude<CacheMode, 'off'>,
    readonly hash: string,
    private readonly request: CacheRequest,
  ) {}

  /**
   * At `stage`, serves the request from the cache if it may be: resolves true when the client got a stored answer,
   * false when the request goes on to the backend (then its answer is captured, to be stored if it ends well).
   * Returns false at once at the stage that is not this config's, and for bypassed requests.
   */
  serve(stage: CacheStage): boolean | Promise<boolean> {
    const servingStage: CacheStage = this.config.hitsCountAgainstRateLimit ? 'admitted' : 'planned';
    if (stage !== servingStage) return false;
    const { context, response, plan } = this.request;
    if (this.mode === 'bypass') {
      context.cacheConsulted('bypass');
      this.cache.metricsSink.recordCacheLookup(plan.target, 'bypass');
      response.setHeader(CACHE_HEADER, 'bypass');
      return false;
    }
    if (this.mode === 'refresh') return this.miss();
    return this.cache.lookup(this.hash).then((answer) => (answer ? this.hit(answer) : this.miss()));
  }

  /** The writer an attempt writes through: a tee into the capture while the answer may be stored. */
  tap(writer: AnswerWriter): AnswerWriter {
    const capture = this.capture;
    if (!capture) return writer;
    const translated = writer !== this.request.response;
    if (translated && !this.request.ingress.translatedWriter) return writer;
    capture.translated = translated;
    return capture.tap(writer);
  }

  private miss(): false {
    const { context, response, plan } = this.request;
    context.cacheConsulted('miss');
    this.cache.metricsSink.recordCacheLookup(plan.target, 'miss');
    response.setHeader(CACHE_HEADER, 'miss');
    const capture = new AnswerCapture(this.config.maxEntryBytes);
    this.capture = capture;
    response.once('finish', () => this.finished(capture));
    return false;
  }

  private async hit(answer: CachedAnswer): Promise<true> {
    const { context, response, plan, proxied, ingress } = this.request;
    context.servedFromCache(answer.model, answer.deployment, answer.costUsd);
    this.cache.metricsSink.recordCacheLookup(plan.target, 'hit', answer.costUsd);
    const headers = {
      ...context.admissionHeaders,
      'content-type': answer.contentType,
      [CACHE_HEADER]: 'hit',
      'x-dosrouter-model': answer.model,
      'x-dosrouter-deployment': answer.deployment,
      'x-dosrouter-attempts': '0',
      'x-dosrouter-cost-usd': formatUsd(0),
      'x-dosrouter-cache-saved-usd': formatUsd(answer.costUsd),
    };
    // Recorded before the last bytes go out, as a forwarded answer's is.
    await context.commitAnswer(200);
    const writer: AnswerWriter = answer.translated && ingress.translatedWriter ? ingress.translatedWriter(response, proxied) : response;
    writer.writeHead(200, answer.contentType.startsWith('text/event-stream') ? headers : { ...headers, 'content-length': String(Buffer.byteLength(answer.body)) });
    writer.end(answer.body);
    return true;
  }

  /** The response is over: its answer is stored if it was complete, successful and of a kind the config keeps. */
  private finished(capture: AnswerCapture): void {
    const { context, response } = this.request;
    const outcome = context.outcome;
    const whole = capture.ended && !capture.overflowed && capture.status === 200 && response.statusCode === 200;
    const clean = outcome.errorCode === undefined && outcome.charges === undefined && outcome.deployment !== undefined && outcome.model !== undefined;
    if (!whole || !clean) {
      this.cache.metricsSink.recordCacheStore(capture.overflowed ? 'too_large' : 'not_cacheable');
      return;
    }
    const body = capture.body();
    if (!this.config.toolCalls && callsTools(body)) {
      this.cache.metricsSink.recordCacheStore('not_cacheable');
      return;
    }
    this.cache.save(this.hash, {
      v: 1,
      contentType: capture.contentType,
      body,
      translated: capture.translated,
      model: outcome.model!,
      deployment: outcome.deployment!,
      promptTokens: outcome.usage?.promptTokens ?? 0,
      completionTokens: outcome.usage?.completionTokens ?? 0,
      costUsd: outcome.costUsd ?? 0,
      storedAt: this.cache.now(),
    });
  }
}

/** Under `scope: key`: the key's id, or (without API keys) a hash of the credential the client sent. */
function ownerOf(apiKey: ApiKeyRecord | undefined, credential: string | undefined): string {
  if (apiKey) return `key:${apiKey.id}`;
  return `credential:${createHash('sha256').update(credential ?? '').digest('hex')}`;
}
