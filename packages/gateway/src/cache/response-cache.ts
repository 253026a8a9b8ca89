import { createHash } from 'node:crypto';
import type { IncomingHttpHeaders, ServerResponse } from 'node:http';
import { GatewayError, MemoryCacheStore, RedisCacheStore, RedisKeys, formatUsd, type ApiKeyRecord, type CacheStore, type GatewayConfig, type RedisClient, type RedisHealth, type ScriptCommands, type Logger, type ResponseCacheConfig, type RoutePlan } from '@dosrouter/shared';
import type { Ingress } from '../proxy/ingress/ingress.js';
import type { RequestContext } from '../request/request-context.js';
import type { GatewayMetrics } from '../telemetry/metrics.js';
import type { AnswerWriter } from '../upstream/attempt.js';
import { endWithErrorEvent } from '../upstream/stream-relay.js';
import type { ProxiedRequest } from '../validation/request-fields.js';
import { AnswerCapture } from './answer-capture.js';
import { cacheKeyOf } from './cache-key.js';
import { CACHE_HEADER, cacheModeOf, type CacheMode } from './cache-policy.js';
import { callsTools, parseCachedAnswer, type CachedAnswer } from './cached-answer.js';
import { LocalFlights, type FlightFeed, type FlightPublisher, type Flights } from './flights/flight.js';
import { RedisFlights } from './flights/redis-flights.js';

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

  /** @internal Stores a finished answer; only the flight's followers wait for it (the client has it already). */
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

/** How often a follower whose leader failed looks the answer up and joins again before it goes on its own. */
const MAX_FLIGHT_ROUNDS = 5;

/**
 * How following a flight ended: served, the client left, no shared answer will begin (none in time, or the leader's
 * cannot be shared: go alone), or the leader failed first (look again).
 */
type Followed = 'served' | 'gone' | 'timeout' | 'again';

/**
 * One request's dealings with the cache: its mode and key, the hit it may be served, the answer it may store, and
 * (with de-duplication) the flight it leads or follows.
 */
export class CacheTicket {
  private capture: AnswerCapture | undefined;
  /** The flight this request leads, when it does. */
  private publisher: FlightPublisher | undefined;

  constructor(
    private readonly cache: ResponseCache,
    private readonly config: ResponseCacheConfig,
    readonly mode: Exclude<CacheMode, 'off'>,
    readonly hash: string,
    private readonly request: CacheRequest,
  ) {}

  /**
   * At `stage`, serves the request from the cache if it may be: resolves true when the request is done (the client
   * got a stored or shared answer, or left while waiting for one), false when it goes on to the backend (then its
   * answer is captured, to be stored if it ends well, and shared with its flight's followers). Returns false at once
   * at the stage that is not this config's, and for bypassed requests.
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
    return this.lookUpOrFollow();
  }

  /** The writer an attempt writes through: a tee into the capture while the answer may be stored. */
  tap(writer: AnswerWriter): AnswerWriter {
    const capture = this.capture;
    if (!capture) return writer;
    const translated = writer !== this.request.response;
    if (translated && !this.request.ingress.translatedWriter) {
      this.publisher?.publish({ kind: 'fail', alone: true });
      return writer;
    }
    capture.translated = translated;
    return capture.tap(writer);
  }

  private async lookUpOrFollow(): Promise<boolean> {
    const { flights } = this.cache;
    for (let round = 0; ; round += 1) {
      const answer = await this.cache.lookup(this.hash);
      if (answer) return this.hit(answer);
      if (!flights || round >= MAX_FLIGHT_ROUNDS) return this.miss();
      const role = await flights.join(this.hash);
      if (role.role === 'leader') return this.miss(role.publisher);
      const followed = await this.follow(role.feed);
      if (followed === 'timeout') return this.miss();
      if (followed === 'gone') this.request.context.failed('client_closed');
      if (followed !== 'again') return true;
    }
  }

  private miss(publisher?: FlightPublisher): false {
    const { context, response, plan } = this.request;
    context.cacheConsulted('miss');
    this.cache.metricsSink.recordCacheLookup(plan.target, 'miss');
    response.setHeader(CACHE_HEADER, 'miss');
    this.publisher = publisher;
    const sink = publisher && {
      head: (status: number, contentType: string) => {
        const { outcome } = context;
        publisher.publish({ kind: 'head', status, contentType, translated: capture.translated, model: outcome.model ?? plan.target, deployment: outcome.deployment ?? '' });
      },
      data: (chunk: Buffer) => publisher.publish({ kind: 'data', chunk }),
    };
    const capture = new AnswerCapture(this.config.maxEntryBytes, sink);
    this.capture = capture;
    response.once('close', () => {
      const stored = response.writableFinished ? this.finished(capture) : undefined;
      if (!publisher) return;
      if (!stored) publisher.publish({ kind: 'fail' });
      else void stored.then((costUsd) => publisher.publish({ kind: 'end', costUsd }));
    });
    return false;
  }

  private async hit(answer: CachedAnswer): Promise<true> {
    const { context, response, proxied, ingress } = this.request;
    context.servedFromCache(answer.model, answer.deployment, answer.costUsd);
    this.cache.metricsSink.recordCacheLookup(this.request.plan.target, 'hit', answer.costUsd);
    const headers = { ...this.hitHeaders(answer.model, answer.deployment), 'content-type': answer.contentType, 'x-dosrouter-cache-saved-usd': formatUsd(answer.costUsd) };
    // Recorded before the last bytes go out, as a forwarded answer's is.
    await context.commitAnswer(200);
    const writer: AnswerWriter = answer.translated && ingress.translatedWriter ? ingress.translatedWriter(response, proxied) : response;
    writer.writeHead(200, answer.contentType.startsWith('text/event-stream') ? headers : { ...headers, 'content-length': String(Buffer.byteLength(answer.body)) });
    writer.end(answer.body);
    return true;
  }

  private hitHeaders(model: string, deployment: string): Record<string, string> {
    return {
      ...this.request.context.admissionHeaders,
      [CACHE_HEADER]: 'hit',
      'x-dosrouter-model': model,
      'x-dosrouter-deployment': deployment,
      'x-dosrouter-attempts': '0',
      'x-dosrouter-cost-usd': formatUsd(0),
    };
  }

  /**
   * Follows another request's flight: its answer goes to this client as the leader writes it (a stream event by
   * event; a whole answer at its end), and is accounted as a hit. A leader that fails before its answer began sends
   * this request back to look again (`again`); after, the client's answer ends as a broken one does.
   */
  private follow(feed: FlightFeed): Promise<Followed> {
    const { response, context, ingress, proxied, plan } = this.request;
    return new Promise<Followed>((resolve) => {
      let writer: AnswerWriter | undefined;
      let head: { model: string; deployment: string; streaming: boolean } | undefined;
      const held: Buffer[] = [];
      let settled = false;
      let unsubscribe: (() => void) | undefined;
      const settle = (result: Followed): void => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        unsubscribe?.();
        response.off('close', onClose);
        resolve(result);
      };
      const onClose = (): void => settle('gone');
      // No answer begun within the wait: this request goes to the backend itself (and is stored if it ends well).
      const timer = setTimeout(() => {
        if (!writer) settle('timeout');
      }, this.config.dedupe.waitMs);
      response.once('close', onClose);
      unsubscribe = feed.subscribe((event) => {
        if (settled) return;
        switch (event.kind) {
          case 'head': {
            clearTimeout(timer);
            head = { model: event.model, deployment: event.deployment, streaming: event.contentType.startsWith('text/event-stream') };
            context.servedFromCache(event.model, event.deployment, 0);
            writer = event.translated && ingress.translatedWriter ? ingress.translatedWriter(response, proxied) : response;
            writer.writeHead(event.status, { ...this.hitHeaders(event.model, event.deployment), 'content-type': event.contentType });
            return;
          }
          case 'data':
            if (!writer || !head) return;
            if (head.streaming) writer.write(event.chunk);
            else held.push(event.chunk);
            return;
          case 'end': {
            if (!writer || !head) return settle('again');
            const { model, deployment, streaming } = head;
            const out = writer;
            context.servedFromCache(model, deployment, event.costUsd);
            this.cache.metricsSink.recordCacheLookup(plan.target, 'hit', event.costUsd);
            response.off('close', onClose);
            void context.commitAnswer(200).then(() => {
              out.end(streaming ? undefined : Buffer.concat(held));
              settle('served');
            });
            return;
          }
          case 'fail':
            if (!writer || !head) return settle(event.alone ? 'timeout' : 'again');
            // Part of the answer went out: it ends as a broken answer does, never as one that looks complete.
            if (head.streaming) {
              endWithErrorEvent(writer, context, new GatewayError('The answer this request was sharing broke before its end.', { status: 502, code: 'upstream_stream_interrupted', type: 'server_error' }));
            } else {
              context.failed('upstream_stream_interrupted');
              response.destroy();
            }
            return settle('served');
        }
      });
    });
  }

  /**
   * The response is over and finished. A complete, successful answer resolves (once stored, when the config keeps
   * its kind) to what it cost: its flight's followers get it either way. Undefined for anything else (an error, a
   * broken or continued stream).
   */
  private finished(capture: AnswerCapture): Promise<number> | undefined {
    const { context, response } = this.request;
    const outcome = context.outcome;
    const whole = capture.ended && capture.status === 200 && response.statusCode === 200;
    const clean = outcome.errorCode === undefined && outcome.charges === undefined && outcome.deployment !== undefined && outcome.model !== undefined;
    if (!whole || !clean) {
      this.cache.metricsSink.recordCacheStore('not_cacheable');
      return undefined;
    }
    const costUsd = outcome.costUsd ?? 0;
    if (capture.overflowed) {
      this.cache.metricsSink.recordCacheStore('too_large');
      return Promise.resolve(costUsd);
    }
    const body = capture.body();
    if (!this.config.toolCalls && callsTools(body)) {
      this.cache.metricsSink.recordCacheStore('not_cacheable');
      return Promise.resolve(costUsd);
    }
    return this.cache
      .save(this.hash, {
        v: 1,
        contentType: capture.contentType,
        body,
        translated: capture.translated,
        model: outcome.model!,
        deployment: outcome.deployment!,
        promptTokens: outcome.usage?.promptTokens ?? 0,
        completionTokens: outcome.usage?.completionTokens ?? 0,
        costUsd,
        storedAt: this.cache.now(),
      })
      .then(() => costUsd);
  }
}

/** Under `scope: key`: the key's id, or (without API keys) a hash of the credential the client sent. */
function ownerOf(apiKey: ApiKeyRecord | undefined, credential: string | undefined): string {
  if (apiKey) return `key:${apiKey.id}`;
  return `credential:${createHash('sha256').update(credential ?? '').digest('hex')}`;
}
