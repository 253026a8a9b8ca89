import type { Deployment, RoutePlan } from '@dosrouter/shared';
import type { ConfigSnapshot } from '../reload/config-snapshot.js';
import type { LiveConfig } from '../reload/live-config.js';
import type { AttemptCharge, RequestOutcome } from '../proxy/request-outcome.js';
import type { RecentRequests } from '../dashboard/recent-requests.js';
import type { AccessLog } from '../telemetry/access-log.js';
import type { GatewayMetrics } from '../telemetry/metrics.js';
import type { RequestTrace, RequestTracer } from '../telemetry/tracing/request-trace.js';
import type { Operation } from '../upstream/backend.js';
import type { TokenUsage } from '../upstream/sse-scanner.js';
import { estimateUsage, type CompletionSource } from '../usage/estimate-usage.js';
import { usageRecordOf } from '../usage/usage-record-of.js';
import type { UsageRecorder } from '../usage/usage-recorder.js';
import type { ProxiedRequest } from '../validation/request-fields.js';

/** Where a request's outcome goes when it is over: shared by every request of a gateway. */
export interface RequestSinks {
  readonly metrics: GatewayMetrics;
  /** Undefined when access lines are off. */
  readonly accessLog: AccessLog | undefined;
  /** Absent when usage records are off. */
  readonly usage: UsageRecorder | undefined;
  /** The config snapshots: a request takes the current one when it is accepted (pricing, routing, backends). */
  readonly config: LiveConfig;
  readonly replica: string;
  readonly clock: () => number;
  /** Counts handlers at work, so that a shutdown writes their usage records before it closes the recorder. */
  readonly handlers?: { enter(): void; leave(): void };
  /** Present when tracing is on (`telemetry.tracing`). */
  readonly tracer?: RequestTracer;
  /** The dashboard's ring of finished requests; absent when the dashboard is off. */
  readonly recent?: RecentRequests;
}

/** What a forwarded request is: set once it is validated. */
interface Forwarding {
  readonly operation: Operation;
  readonly proxied: ProxiedRequest;
}

type Mutable<T> = { -readonly [K in keyof T]: T[K] };

/**
 * The one owner of a request from accept to finish. Everything that learns something about the request tells it
 * through a named transition (validated, planned, admitted, attempt started, first token, usage settled, failed,
 * answer committed, response closed, handler finished); nothing else writes its outcome. It writes the metrics
 * and the access line exactly once, when the response closes, and the usage record exactly once: before a complete
 * answer's last bytes (`commitAnswer`), or else when both the response has closed and the handler is done with
 * the attempt (which may still be settling what a broken stream used).
 */
export class RequestContext {
  private state: Mutable<RequestOutcome>;
  /** A fork for one of several racing attempts (hedging): the request's own context, which may adopt it. */
  private parent: RequestContext | undefined;
  /** The fork whose attempt won the race: its state is now this context's, and it answers through this one. */
  private adopted: RequestContext | undefined;
  private forwarding: Forwarding | undefined;
  private plan: RoutePlan | undefined;
  private deploymentInUse: Deployment | undefined;
  private limitHeaders: Readonly<Record<string, string>> = {};
  /** The handler is still at work on this request (validated it and has not returned). */
  private handling = false;
  /** The response closed with this status, at this time; set once. */
  private closed: { readonly status: number; readonly at: number } | undefined;
  private usageWritten = false;
  private reported = false;
  /**
   * The config this request runs on from accept to finish, whatever reloads happen meanwhile (the middleware
   * releases it when the response is over).
   */
  readonly config: ConfigSnapshot;
  /** What the handler lets go of once the answer's first bytes are out (see onAnswerStarted). */
  private onStarted: (() => void) | undefined;

  constructor(
    private readonly sinks: RequestSinks,
    requestId: string,
    route: string,
    readonly method: string,
    /**
     * The request's trace (telemetry/tracing): its spans when tracing is on, else the client's `traceparent` passed
     * through; told of the transitions here, and of each attempt by the attempt layer `traceAttempts`.
     */
    readonly trace?: RequestTrace,
    config?: ConfigSnapshot,
  ) {
    this.state = { requestId, route, receivedAt: sinks.clock(), attempts: 0 };
    this.config = config ?? sinks.config.acquire();
  }

  /** The outcome so far, read-only: what the access line, metrics and usage record are made of. */
  get outcome(): Readonly<RequestOutcome> {
    return this.state;
  }

  get requestId(): string {
    return this.state.requestId;
  }

  /** The handler began its work on this request. */
  handlerStarted(): void {
    if (this.handling) return;
    this.handling = true;
    this.sinks.handlers?.enter();
  }

  /** The request is valid and will be forwarded: from here on it gets a usage record, whatever becomes of it. */
  validated(operation: Operation, proxied: ProxiedRequest, keyId: string | undefined): void {
    this.state.requestedModel = proxied.model;
    this.state.stream = proxied.stream;
    if (keyId !== undefined) this.state.keyId = keyId;
    this.forwarding = { operation, proxied };
    this.trace?.validated(operation, proxied);
  }

  planned(plan: RoutePlan): void {
    this.plan = plan;
    this.state.model = plan.target;
    this.state.tier = plan.classification?.tier;
    this.state.rule = plan.rule;
    this.state.strategy = plan.strategy.name;
    this.trace?.planned(plan);
  }

  /** The key's limits admitted the request; these headers (`x-ratelimit-*`) go out with its answer or error. */
  admitted(headers: Readonly<Record<string, string>>): void {
    this.limitHeaders = headers;
  }

  get admissionHeaders(): Readonly<Record<string, string>> {
    return this.limitHeaders;
  }

  /** An attempt on `deployment` begins: what an earlier attempt learnt of its answer no longer applies. */
  attemptStarted(deployment: Deployment): void {
    this.deploymentInUse = deployment;
    this.state.attempts += 1;
    this.state.deployment = deployment.id;
    this.state.model = deployment.model;
    this.state.firstTokenAt = undefined;
    this.state.usage = undefined;
    this.state.usageEstimated = undefined;
    this.state.costUsd = undefined;
    this.state.upstreamStartedAt = this.sinks.clock();
    this.state.upstreamEndedAt = undefined;
  }

  /** The request waited this long in the replica's saturation queue before it was let through. */
  queued(waitedMs: number): void {
    if (waitedMs > 0) this.state.queueWaitMs = Math.round(waitedMs * 100) / 100;
  }

  /**
   * The current attempt waited this long for a connection to its backend (`maxConnections`). Its upstream time starts
   * now: the wait was the gateway's, and the rolling stats judge the backend on what follows.
   */
  connectionWaited(waitedMs: number): void {
    if (waitedMs <= 0) return;
    this.state.connectionWaitMs = Math.round(((this.state.connectionWaitMs ?? 0) + waitedMs) * 100) / 100;
    this.state.upstreamStartedAt = this.sinks.clock();
  }

  /**
   * The current attempt, a stream that reached the client, broke (`cause`) and will be continued by another: its
   * usage and cost are kept as a charge to its deployment, and the client's first token stays the request's.
   */
  attemptBroke(cause: string): void {
    if (!this.deploymentInUse) return;
    this.settleCost();
    this.state.clientFirstTokenAt ??= this.state.firstTokenAt;
    const charge: AttemptCharge = {
      deployment: this.deploymentInUse.id,
      model: this.deploymentInUse.model,
      ...(this.state.usage ? { usage: this.state.usage } : {}),
      ...(this.state.usageEstimated ? { usageEstimated: true } : {}),
      costUsd: this.state.costUsd ?? 0,
      cause,
    };
    this.state.charges = [...(this.state.charges ?? []), charge];
  }

  /** The first content token of the current attempt reached the gateway (the first one counts); it goes to the client now. */
  firstToken(): void {
    this.state.firstTokenAt ??= this.sinks.clock();
    const started = this.onStarted;
    this.onStarted = undefined;
    started?.();
  }

  /**
   * `release` is called once, when a stream's first token goes to the client: from then on no attempt can fail over,
   * so what only another attempt would need (the client's raw body) can go instead of living as long as the stream.
   */
  onAnswerStarted(release: () => void): void {
    this.onStarted = release;
  }

  /** The current attempt's upstream response is over (the first call counts: later waits are not the backend's). */
  upstreamEnded(): void {
    this.state.upstreamEndedAt ??= this.sinks.clock();
  }

  /** What the current attempt used: the backend's figures, or the gateway's count (`estimated`). */
  usageSettled(usage: TokenUsage | undefined, estimated: boolean): void {
    this.state.usage = usage;
    this.state.usageEstimated = estimated ? true : undefined;
  }

  /** The response cache was looked up, refreshed or bypassed for this request (`hit` is `servedFromCache`). */
  cacheConsulted(result: 'miss' | 'bypass'): void {
    this.state.cache = result;
  }

  /**
   * The answer came from the response cache, or from an identical request in flight: no attempt, no tokens used,
   * cost 0; `savedUsd` is what the answer cost when it was made by `deployment` of `model` (told again when a shared
   * answer ends and its cost is known). The key's token limits get back what admission reserved.
   */
  servedFromCache(model: string, deployment: string, savedUsd: number): void {
    this.state.cache = 'hit';
    this.state.model = model;
    this.state.deployment = deployment;
    this.state.usage = { promptTokens: 0, completionTokens: 0, totalTokens: 0 };
    this.state.costUsd = 0;
    this.state.savedUsd = savedUsd;
    this.state.firstTokenAt ??= this.sinks.clock();
  }

  /**
   * The shared stream this request followed broke after part of it reached the client: the request goes on to the
   * backend itself (its attempts are accounted as a miss's), continuing the client's stream.
   */
  sharedAnswerBroke(): void {
    this.state.cache = 'miss';
    this.state.savedUsd = undefined;
  }

  /** An attempt on `deploymentId` ended: `ok`, or its error code. */
  attemptEnded(deploymentId: string, outcome: string): void {
    // A new array each time: a hedge's forks copied the state and must not share the log being written.
    this.state.attemptLog = [...(this.state.attemptLog ?? []), { deployment: deploymentId, outcome }];
  }

  /** The error a client received, or why an answer ended early (the last one said is recorded). */
  failed(errorCode: string): void {
    this.state.errorCode = errorCode;
  }

  /** Counts the tokens of the request and of `completion`, for a backend that reported no usage. */
  estimateUsage(completion: CompletionSource): TokenUsage {
    if (!this.forwarding) throw new Error('the request was not validated for forwarding');
    return estimateUsage(this.forwarding.operation, this.forwarding.proxied.body, completion);
  }

  /** The headers of a successful answer: routing's, the cost (from `usage` when known) and the key's limits. */
  answerHeaders(usage: TokenUsage | undefined): Record<string, string> {
    if (this.parent?.adopted === this) return this.parent.answerHeaders(usage);
    if (!this.plan || !this.deploymentInUse) throw new Error('answer headers before an attempt started');
    return { ...this.limitHeaders, ...this.config.pricing.headers(this.plan, this.deploymentInUse, this.state.attempts, usage) };
  }

  /**
   * A context for one of several attempts that race (hedging): it learns its own attempt's facts, apart from the
   * others'. The one whose attempt wins is adopted (`adopt`); the others are dropped.
   */
  fork(): RequestContext {
    const child = new RequestContext(this.sinks, this.state.requestId, this.state.route, this.method, this.trace, this.config);
    child.state = { ...this.state };
    child.forwarding = this.forwarding;
    child.plan = this.plan;
    child.limitHeaders = this.limitHeaders;
    child.parent = this;
    return child;
  }

  /**
   * The race is over: `winner`'s facts become the request's (the same record from now on; when no attempt sent a
   * token, the last to fail). The `others` racing attempts count as attempts; those in `aborted` were cut off by the
   * winner's first token and are charged the prompt they were sent (estimated: they reported nothing).
   */
  adopt(winner: RequestContext, others: number, aborted: readonly Deployment[]): void {
    this.state = winner.state;
    this.deploymentInUse = winner.deploymentInUse;
    this.adopted = winner;
    this.state.attempts += others;
    const charges: AttemptCharge[] = aborted.map((deployment) => {
      const usage = this.estimateUsage({ completionTokens: 0 });
      const costUsd = this.plan ? Number(this.config.pricing.answerCost(this.plan, deployment, usage).toFixed(10)) : 0;
      return { deployment: deployment.id, model: deployment.model, usage, usageEstimated: true, costUsd, cause: 'hedge' };
    });
    if (charges.length > 0) this.state.charges = [...(this.state.charges ?? []), ...charges];
  }

  /** Settles the current attempt's cost from its usage (rounded as the header is: float sums leave noise). */
  settleCost(): void {
    if (!this.plan || !this.deploymentInUse) return;
    this.state.costUsd = Number(this.config.pricing.answerCost(this.plan, this.deploymentInUse, this.state.usage).toFixed(10));
  }

  get costSettled(): boolean {
    return this.state.costUsd !== undefined;
  }

  /**
   * A complete answer is about to end: its cost is settled and its usage record written now, so that a replica
   * killed after the last byte has lost nothing. Resolves when the recorder has it (bounded by its commit wait).
   */
  async commitAnswer(status: number): Promise<void> {
    if (this.parent?.adopted === this) return this.parent.commitAnswer(status);
    this.settleCost();
    if (!this.sinks.usage || this.usageWritten) return;
    this.usageWritten = true;
    await this.sinks.usage.commit(usageRecordOf(this.state, status, this.sinks.clock(), this.sinks.replica));
  }

  /**
   * The response is over (`finished`: all of it was written; otherwise the client left first, recorded as 499).
   * Writes the metrics and the access line; the usage record too unless the handler is still settling it.
   */
  responseClosed(finished: boolean, statusCode: number): void {
    if (this.closed) return;
    const at = this.sinks.clock();
    const status = finished ? statusCode : 499;
    // The handler may learn of the disconnect only after this (it was waiting to retry).
    if (status === 499) this.state.errorCode ??= 'client_closed';
    this.closed = { status, at };
    if (!this.reported) {
      this.reported = true;
      this.sinks.metrics.recordRequest(this.state, status, at);
      this.sinks.accessLog?.write(this.state, this.method, status, at);
      if (this.forwarding) this.sinks.recent?.add(this.state, this.plan, this.forwarding.proxied.body, status, at);
    }
    if (!this.handling) this.finish();
  }

  /** The handler returned (or threw): if the response already closed, the usage record is written now. */
  handlerFinished(): void {
    if (!this.handling) return;
    this.handling = false;
    if (this.closed) this.finish();
    this.sinks.handlers?.leave();
  }

  /** The response has closed and no handler is at work: the usage record is written and the trace ends. */
  private finish(): void {
    this.writeUsage();
    if (this.closed) this.trace?.ended(this.state, this.closed.status);
  }

  /** Errors and abandoned requests: recorded with the status the client saw, without waiting. */
  private writeUsage(): void {
    const closed = this.closed;
    if (!closed || !this.forwarding || !this.sinks.usage || this.usageWritten) return;
    this.usageWritten = true;
    this.sinks.usage.record(usageRecordOf(this.state, closed.status, closed.at, this.sinks.replica));
  }
}

/** The context the request-context middleware attached to this response. */
export function contextOf(response: { locals: Record<string, unknown> }): RequestContext {
  const context = response.locals.context;
  if (!(context instanceof RequestContext)) throw new Error('request context middleware is not installed');
  return context;
}
