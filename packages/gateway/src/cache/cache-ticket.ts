import type { IncomingHttpHeaders, ServerResponse } from 'node:http';
import { GatewayError, formatUsd, type ApiKeyRecord, type ResponseCacheConfig, type RoutePlan } from '@dosrouter/shared';
import type { Ingress } from '../proxy/ingress/ingress.js';
import type { RequestContext } from '../request/request-context.js';
import type { AnswerWriter } from '../upstream/attempt.js';
import { endWithErrorEvent } from '../upstream/stream-relay.js';
import type { ProxiedRequest } from '../validation/request-fields.js';
import { DeliveredStream, type Transcript } from '../recovery/delivered-stream.js';
import { AnswerCapture } from './answer-capture.js';
import { CACHE_HEADER, type CacheMode } from './cache-policy.js';
import { callsTools, type CachedAnswer } from './cached-answer.js';
import type { FlightFeed, FlightPublisher } from './flights/flight.js';
import type { ResponseCache } from './response-cache.js';

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
  /**
   * An OpenAI chat stream with one choice, written as it comes (no translating ingress): a follower that streamed part
   * of a leader's answer that then broke takes it over (decision 0019). Others end with the error event.
   */
  readonly resumable: boolean;
}

/** Most of a shared stream's text a follower keeps to take the answer over; past it, a break ends with the error event. */
const TAKEOVER_MAX_BYTES = 1024 * 1024;

/** How often a follower whose leader failed looks the answer up and joins again before it goes on its own. */
const MAX_FLIGHT_ROUNDS = 5;

/**
 * How following a flight ended: served, the client left, no shared answer will begin (none in time, or the leader's
 * cannot be shared: go alone), the leader failed first (look again), or it broke after part of its stream went to
 * this client (`takeover`: this request sends its own, relayed from where the client is).
 */
type Followed = 'served' | 'gone' | 'timeout' | 'again' | 'takeover';

/**
 * One request's dealings with the cache: its mode and key, the hit it may be served, the answer it may store, and
 * (with de-duplication) the flight it leads or follows.
 */
export class CacheTicket {
  private capture: AnswerCapture | undefined;
  /** The flight this request leads, when it does. */
  private publisher: FlightPublisher | undefined;
  /**
   * What this follower's client was sent of a shared stream that broke: the request goes on to the backend and its
   * new answer is relayed from the point this text ends (mid-stream recovery's `replay`), in the open stream.
   */
  takenOver: { readonly delivered: DeliveredStream; readonly transcript: Transcript } | undefined;

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
      if (followed === 'takeover') {
        this.request.context.sharedAnswerBroke();
        return false;
      }
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
      else {
        void stored.then((costUsd) => {
          if (capture.last) publisher.publish({ kind: 'data', chunk: capture.last });
          publisher.publish({ kind: 'end', costUsd });
        });
      }
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
   * event; a whole answer, head included, at its end), and is accounted as a hit. A leader that fails before this
   * client was sent anything sends this request back to look again (`again`); after part of a resumable stream, the
   * request takes the answer over (`takeover`); after part of another stream, the client's answer ends as a broken
   * one does.
   */
  private follow(feed: FlightFeed): Promise<Followed> {
    const { response, context, ingress, proxied, plan } = this.request;
    return new Promise<Followed>((resolve) => {
      /** The client's writer once the stream's head went out. */
      let writer: AnswerWriter | undefined;
      /** A whole answer's head, sent with its body at the end. */
      let opened: (() => AnswerWriter) | undefined;
      let resumable = false;
      let head: { model: string; deployment: string; streaming: boolean } | undefined;
      const held: Buffer[] = [];
      // What the client was sent of the stream, read back if the leader breaks (resumable streams only).
      const delivered = this.request.resumable ? new DeliveredStream(TAKEOVER_MAX_BYTES) : undefined;
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
            // A whole answer's head goes out with its body at the end: until then the request can still go on its own.
            const begin = (): AnswerWriter => {
              const out = event.translated && ingress.translatedWriter ? ingress.translatedWriter(response, proxied) : response;
              out.writeHead(event.status, { ...this.hitHeaders(event.model, event.deployment), 'content-type': event.contentType });
              return out;
            };
            if (!head.streaming) {
              opened = begin;
              return;
            }
            context.servedFromCache(event.model, event.deployment, 0);
            writer = begin();
            resumable = !event.translated;
            return;
          }
          case 'data':
            if (!head) return;
            if (!head.streaming) held.push(event.chunk);
            else if (writer) {
              writer.write(event.chunk);
              delivered?.add(event.chunk);
            }
            return;
          case 'end': {
            if (!head) return settle('again');
            const { model, deployment, streaming } = head;
            const out = writer ?? opened?.();
            if (!out) return settle('again');
            context.servedFromCache(model, deployment, event.costUsd);
            this.cache.metricsSink.recordCacheLookup(plan.target, 'hit', event.costUsd);
            response.off('close', onClose);
            void context.commitAnswer(200).then(() => {
              out.end(streaming ? undefined : Buffer.concat(held));
              settle('served');
            });
            return;
          }
          case 'fail': {
            if (!writer) return settle(event.alone ? 'timeout' : 'again');
            // Part of the stream went out: this request takes it over when it can, else it ends as a broken answer
            // does, never as one that looks complete.
            const transcript = resumable ? delivered?.transcript() : undefined;
            if (delivered && transcript && transcript.unrecoverable === undefined) {
              this.takenOver = { delivered, transcript };
              return settle('takeover');
            }
            endWithErrorEvent(writer, context, new GatewayError('The answer this request was sharing broke before its end.', { status: 502, code: 'upstream_stream_interrupted', type: 'server_error' }));
            return settle('served');
          }
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
