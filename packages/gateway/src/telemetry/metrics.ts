import { Counter, Gauge, Histogram, Registry } from 'prom-client';
import { collectProcessMetrics } from '@dosrouter/health-prober';
import type { RequestOutcome } from '../proxy/request-outcome.js';
import { SeriesCounter, SeriesHistogram, type CounterSeries, type HistogramSeries } from './series-metrics.js';

const LATENCY_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120];
const OVERHEAD_BUCKETS = [0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1];

type ModelLabels = 'model' | 'deployment';

/** What an error code label may look like, and how many distinct ones one gateway reports. */
const ERROR_CODE_SHAPE = /^[a-z0-9_]{1,64}$/;
const MAX_ERROR_CODES = 64;

/** The series one request's outcome updates, looked up once per label set. */
interface RequestChildren {
  readonly requests: CounterSeries;
  readonly duration: HistogramSeries;
  readonly timeToFirstToken: HistogramSeries;
  readonly promptTokens: CounterSeries;
  readonly completionTokens: CounterSeries;
  readonly cacheReadTokens: CounterSeries;
  readonly cacheWriteTokens: CounterSeries;
}

/** The gateway's Prometheus metrics, on a registry of its own so that several gateways can share a process in tests. */
export class GatewayMetrics {
  readonly registry = new Registry();
  // The series every request updates are plain numbers until a scrape reads them (series-metrics.ts).
  private readonly requests = new SeriesCounter<'route' | 'model' | 'deployment' | 'status'>(
    'dosrouter_requests_total',
    'Finished client requests by model, deployment and HTTP status.',
    this.registry,
  );
  private readonly duration = new SeriesHistogram<ModelLabels>(
    'dosrouter_request_duration_seconds',
    'Time from receiving a request to the end of its response.',
    this.registry,
    LATENCY_BUCKETS,
  );
  private readonly timeToFirstToken = new SeriesHistogram<ModelLabels>(
    'dosrouter_time_to_first_token_seconds',
    'Time from receiving a streaming request to forwarding its first content token.',
    this.registry,
    LATENCY_BUCKETS,
  );
  private readonly overhead = new SeriesHistogram<never>(
    'dosrouter_gateway_overhead_seconds',
    'Time a request spent in the gateway itself: total duration minus the wait on the backend.',
    this.registry,
    OVERHEAD_BUCKETS,
  ).seriesOf('', {});
  private readonly tokens = new SeriesCounter<'model' | 'deployment' | 'kind'>(
    'dosrouter_tokens_total',
    'Tokens reported by backends, by model, deployment and kind (prompt, completion; cache_read and cache_write are parts of prompt).',
    this.registry,
  );
  private readonly upstreamErrors = new Counter({
    name: 'dosrouter_upstream_errors_total',
    help: 'Failed upstream attempts by deployment and error code (each failover attempt counts).',
    labelNames: ['deployment', 'code'] as const,
    registers: [this.registry],
  });
  private readonly recoveredStreams = new Counter({
    name: 'dosrouter_recovered_streams_total',
    help: 'Streams that broke after text reached the client and were finished by another attempt, by how they broke (cut, stall, malformed).',
    labelNames: ['cause'] as const,
    registers: [this.registry],
  });
  private readonly hedges = new Counter({
    name: 'dosrouter_hedged_requests_total',
    help: 'Hedged attempts started (a stream whose first token was late), by which attempt sent the first token: primary, hedge, or none.',
    labelNames: ['winner'] as const,
    registers: [this.registry],
  });
  private readonly cacheLookups = new Counter({
    name: 'dosrouter_cache_requests_total',
    help: 'Requests the response cache was on for, by result: hit, miss (looked up, or refreshed, and forwarded), bypass (neither read nor written), and by model.',
    labelNames: ['model', 'result'] as const,
    registers: [this.registry],
  });
  private readonly cacheSaved = new Counter({
    name: 'dosrouter_cache_saved_usd_total',
    help: 'What the answers served from the response cache cost when they were first made (USD), by model.',
    labelNames: ['model'] as const,
    registers: [this.registry],
  });
  private readonly cacheStores = new Counter({
    name: 'dosrouter_cache_stores_total',
    help: 'Answers offered to the response cache, by result: stored, too_large, not_cacheable (an error, a broken or recovered stream, tool calls), failed (the store failed).',
    labelNames: ['result'] as const,
    registers: [this.registry],
  });
  private readonly cacheEvictions = new Counter({
    name: 'dosrouter_cache_evictions_total',
    help: 'Answers evicted from the response cache to keep it within cache.maxBytes (least recently used first).',
    registers: [this.registry],
  });
  private requestsInFlight = 0;
  /** Client requests being processed: counted as a number, read at each scrape. */
  readonly inFlight = {
    inc: (): void => {
      this.requestsInFlight += 1;
    },
    dec: (): void => {
      this.requestsInFlight -= 1;
    },
  };
  private readonly inFlightGauge: Gauge = new Gauge({
    name: 'dosrouter_requests_in_flight',
    help: 'Client requests being processed by this gateway process.',
    registers: [this.registry],
    collect: (): void => this.inFlightGauge.set(this.requestsInFlight),
  });

  private readonly circuitState = new Gauge({
    name: 'dosrouter_circuit_state',
    help: 'Circuit of each deployment as this replica sees it: 0 closed, 0.5 half-open, 1 open.',
    labelNames: ['deployment'] as const,
    registers: [this.registry],
  });
  private readonly degraded = new Gauge({
    name: 'dosrouter_redis_degraded',
    help: '1 while Redis is unreachable and the replica runs on its last snapshot and per-replica limits.',
    registers: [this.registry],
  });
  private readonly weightsStale = new Gauge({
    name: 'dosrouter_weights_stale',
    help: '1 while the prober’s weights table is older than weights.staleAfterMs and routing uses configured weights.',
    registers: [this.registry],
  });
  private readonly weightsGeneration = new Gauge({
    name: 'dosrouter_weights_generation',
    help: 'Generation of the prober’s weights table this replica applies (0: none received).',
    registers: [this.registry],
  });
  private readonly rateLimited = new Counter({
    name: 'dosrouter_rate_limited_total',
    help: 'Requests refused by a rate, token or concurrency limit or a spend budget, by who refused (key, deployments) and which limit.',
    labelNames: ['scope', 'limit'] as const,
    registers: [this.registry],
  });

  private readonly connectionWaits = new Histogram({
    name: 'dosrouter_upstream_connection_wait_seconds',
    help: 'Waits for a connection to a backend that maxConnections caps, by backend and result: acquired, timeout (failed over), aborted (the client left). Requests that found a free connection are not observed.',
    labelNames: ['backend', 'result'] as const,
    buckets: LATENCY_BUCKETS,
    registers: [this.registry],
  });

  private readonly queueWaits = new Histogram({
    name: 'dosrouter_queue_wait_seconds',
    help: 'Waits in a saturation queue, by the limit waited for (replica: saturation.maxConcurrentRequests; key: the key\'s concurrency), result (admitted, timeout, over_share, aborted) and priority. Requests that found a free slot are not observed.',
    labelNames: ['limit', 'result', 'priority'] as const,
    buckets: LATENCY_BUCKETS,
    registers: [this.registry],
  });

  private readonly deploymentQueueWaits = new Histogram({
    name: 'dosrouter_deployment_queue_wait_seconds',
    help: 'Waits for a slot of a deployment at its maxConcurrent, by deployment, result (admitted, timeout, over_share, aborted) and priority. Requests that found room on some deployment are not observed.',
    labelNames: ['deployment', 'result', 'priority'] as const,
    buckets: LATENCY_BUCKETS,
    registers: [this.registry],
  });

  private readonly errorCodes = new Set<string>();
  // Updated once per request: a plain series, like the request metrics above.
  private readonly usageRecords = new SeriesCounter<'result'>(
    'dosrouter_usage_records_total',
    'Usage records by what became of them: written (to the stream, or the memory ledger), spooled (Redis failed: kept to retry), dropped (the spool was full), late (the answer ended before its record was written).',
    this.registry,
  );
  readonly usageSpool = new Gauge({
    name: 'dosrouter_usage_spool_records',
    help: 'Usage records held in this replica waiting for Redis.',
    registers: [this.registry],
  });
  private readonly usageCounted = new Counter({
    name: 'dosrouter_usage_aggregated_total',
    help: 'Stream entries this replica’s usage consumer handled: counted, duplicate (skipped), malformed (skipped).',
    labelNames: ['result'] as const,
    registers: [this.registry],
  });

  constructor() {
    collectProcessMetrics(this.registry);
  }

  recordUsageRecords(result: 'written' | 'spooled' | 'dropped' | 'late', count = 1): void {
    if (count > 0) this.usageRecords.seriesOf(result, { result }).value += count;
  }

  recordUsageAggregated(counted: number, duplicates: number, malformed: number): void {
    if (counted > 0) this.usageCounted.inc({ result: 'counted' }, counted);
    if (duplicates > 0) this.usageCounted.inc({ result: 'duplicate' }, duplicates);
    if (malformed > 0) this.usageCounted.inc({ result: 'malformed' }, malformed);
  }

  recordCircuitState(deployment: string, state: 'closed' | 'open' | 'half_open'): void {
    this.circuitState.set({ deployment }, state === 'open' ? 1 : state === 'half_open' ? 0.5 : 0);
  }

  recordDegraded(degraded: boolean): void {
    this.degraded.set(degraded ? 1 : 0);
  }

  recordWeights(stale: boolean, generation: number | undefined): void {
    this.weightsStale.set(stale ? 1 : 0);
    this.weightsGeneration.set(generation ?? 0);
  }

  recordConnectionWait(backend: string, result: 'acquired' | 'timeout' | 'aborted', waitedMs: number): void {
    this.connectionWaits.observe({ backend, result }, waitedMs / 1000);
  }

  recordQueueWait(result: string, priority: string, waitedMs: number, limit: 'replica' | 'key' = 'replica'): void {
    this.queueWaits.observe({ limit, result, priority }, waitedMs / 1000);
  }

  recordDeploymentQueueWait(deployment: string, result: string, priority: string, waitedMs: number): void {
    this.deploymentQueueWaits.observe({ deployment, result, priority }, waitedMs / 1000);
  }

  /** Each limited deployment's slots held by this replica and requests waiting here for one, read at each scrape. */
  observeDeploymentSaturation(read: () => { deployment: string; active: number; waiting: number }[]): void {
    new Gauge({
      name: 'dosrouter_deployment_saturation_requests',
      help: 'Per deployment with maxConcurrent: requests of this replica holding one of its slots (active) and waiting for one (waiting).',
      labelNames: ['deployment', 'state'] as const,
      registers: [this.registry],
      collect() {
        for (const { deployment, active, waiting } of read()) {
          this.set({ deployment, state: 'active' }, active);
          this.set({ deployment, state: 'waiting' }, waiting);
        }
      },
    });
  }

  /** The saturation queues' state, read at each scrape. */
  private readonly saturation: Gauge<'limit' | 'state'> = new Gauge({
    name: 'dosrouter_saturation_requests',
    help: 'Forwarded requests holding a slot (active) and waiting for one (waiting), by limit: replica (saturation.maxConcurrentRequests), key (waiting for a slot of their key, summed over keys).',
    labelNames: ['limit', 'state'] as const,
    registers: [this.registry],
    collect: () => {
      if (this.readReplicaSaturation) {
        const { active, waiting } = this.readReplicaSaturation();
        this.saturation.set({ limit: 'replica', state: 'active' }, active);
        this.saturation.set({ limit: 'replica', state: 'waiting' }, waiting);
      }
      if (this.readKeySaturation) this.saturation.set({ limit: 'key', state: 'waiting' }, this.readKeySaturation());
    },
  });
  private readReplicaSaturation: (() => { active: number; waiting: number }) | undefined;
  private readKeySaturation: (() => number) | undefined;

  /** The replica queue's state, read at each scrape. */
  observeSaturation(read: () => { active: number; waiting: number }): void {
    this.readReplicaSaturation = read;
  }

  /** Requests waiting for a slot of their key, over every key, read at each scrape. */
  observeKeySaturation(read: () => number): void {
    this.readKeySaturation = read;
  }

  recordRateLimited(scope: 'key' | 'deployments', limit: string): void {
    this.rateLimited.inc({ scope, limit });
  }

  /**
   * The code comes from the backend's error body: only short snake_case codes become label values, and at most
   * MAX_ERROR_CODES distinct ones; anything else counts as `other`, so a backend cannot grow the series without end.
   */
  recordUpstreamError(deployment: string, code: string): void {
    let label = ERROR_CODE_SHAPE.test(code) ? code : 'other';
    if (label !== 'other' && !this.errorCodes.has(label)) {
      if (this.errorCodes.size >= MAX_ERROR_CODES) label = 'other';
      else this.errorCodes.add(label);
    }
    this.upstreamErrors.inc({ deployment, code: label });
  }

  /** The series of each route/model/deployment/status seen, made once. */
  private readonly children = new Map<string, RequestChildren>();

  private childrenFor(route: string, model: string, deployment: string, status: number): RequestChildren {
    const key = `${route}\u0000${model}\u0000${deployment}\u0000${status}`;
    let children = this.children.get(key);
    if (!children) {
      const modelKey = `${model}\u0000${deployment}`;
      const labels = { model, deployment };
      children = {
        requests: this.requests.seriesOf(key, { route, model, deployment, status: String(status) }),
        duration: this.duration.seriesOf(modelKey, labels),
        timeToFirstToken: this.timeToFirstToken.seriesOf(modelKey, labels),
        promptTokens: this.tokens.seriesOf(`${modelKey}\u0000prompt`, { model, deployment, kind: 'prompt' }),
        completionTokens: this.tokens.seriesOf(`${modelKey}\u0000completion`, { model, deployment, kind: 'completion' }),
        cacheReadTokens: this.tokens.seriesOf(`${modelKey}\u0000cache_read`, { model, deployment, kind: 'cache_read' }),
        cacheWriteTokens: this.tokens.seriesOf(`${modelKey}\u0000cache_write`, { model, deployment, kind: 'cache_write' }),
      };
      this.children.set(key, children);
    }
    return children;
  }

  /** A hedge race is over: which of its attempts sent the first token (`none`: all of them failed). */
  recordHedge(winner: 'primary' | 'hedge' | 'none'): void {
    this.hedges.inc({ winner });
  }

  /** Called once per request when its response is over. */
  /** A request the response cache was on for: served from it (with what it saved), forwarded, or bypassed. */
  recordCacheLookup(model: string, result: 'hit' | 'miss' | 'bypass', savedUsd = 0): void {
    this.cacheLookups.inc({ model, result });
    if (savedUsd > 0) this.cacheSaved.inc({ model }, savedUsd);
  }

  recordCacheStore(result: 'stored' | 'too_large' | 'not_cacheable' | 'failed', evicted = 0): void {
    this.cacheStores.inc({ result });
    if (evicted > 0) this.cacheEvictions.inc(evicted);
  }

  recordRequest(outcome: RequestOutcome, status: number, endedAt: number): void {
    const children = this.childrenFor(outcome.route, outcome.model ?? 'none', outcome.deployment ?? 'none', status);
    children.requests.value += 1;
    children.duration.observe((endedAt - outcome.receivedAt) / 1000);
    if (outcome.stream && outcome.firstTokenAt !== undefined) {
      children.timeToFirstToken.observe((outcome.firstTokenAt - outcome.receivedAt) / 1000);
    }
    if (outcome.upstreamStartedAt !== undefined && outcome.upstreamEndedAt !== undefined) {
      const waited = outcome.upstreamEndedAt - outcome.upstreamStartedAt;
      this.overhead.observe(Math.max(0, endedAt - outcome.receivedAt - waited) / 1000);
    }
    if (outcome.usage) {
      children.promptTokens.value += outcome.usage.promptTokens;
      children.completionTokens.value += outcome.usage.completionTokens;
      if (outcome.usage.cacheReadTokens) children.cacheReadTokens.value += outcome.usage.cacheReadTokens;
      if (outcome.usage.cacheWriteTokens) children.cacheWriteTokens.value += outcome.usage.cacheWriteTokens;
    }
    for (const charge of outcome.charges ?? []) {
      if (charge.usage) {
        const modelKey = `${charge.model}\u0000${charge.deployment}`;
        this.tokens.seriesOf(`${modelKey}\u0000prompt`, { model: charge.model, deployment: charge.deployment, kind: 'prompt' }).value += charge.usage.promptTokens;
        this.tokens.seriesOf(`${modelKey}\u0000completion`, { model: charge.model, deployment: charge.deployment, kind: 'completion' }).value += charge.usage.completionTokens;
      }
      if (charge.cause !== 'hedge' && status < 400 && outcome.errorCode === undefined) this.recoveredStreams.inc({ cause: charge.cause });
    }
  }
}
