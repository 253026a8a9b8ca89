import {
  GatewayError,
  LimiterFailedError,
  LimitsUnavailableError,
  hasLimits,
  type BudgetCheck,
  type ApiKeyRecord,
  type Deployment,
  type GatewayConfig,
  type Limiter,
  type LimitScope,
  type Release,
  type AdmissionResult,
} from '@dosrouter/shared';
import type { KeyConcurrency, KeyWait } from '../saturation/key-concurrency.js';
import type { QueuePlace } from '../saturation/queue-place.js';
import type { GatewayMetrics } from '../telemetry/metrics.js';
import type { SpendObservations } from '../usage/spend-observations.js';
import { budgetCheckOf, budgetSpentError, deploymentScope, estimateTokens, keyScope, rateLimitHeaders, rateLimitedError } from './admission.js';

type HeldScope = Release['scopes'][number];

/**
 * One request's dealings with the limiter: admission before the first attempt (one round trip, and none at
 * all when neither the key nor the first deployment has limits), a further admission only when failing over to
 * a deployment with limits of its own, and one release when the request is over.
 */
export class RequestLimits {
  /** `x-ratelimit-*` headers for the client's key. */
  headers: Record<string, string> = {};
  /** How long admission waited for a slot of the key (its concurrency limit); 0 when it did not wait. */
  queuedMs = 0;
  private readonly held: HeldScope[] = [];
  /** The limiter admitted this request: it is told when the request is over even if no scope holds anything. */
  private admitted = false;
  /** Admissions made so far: each is numbered, so that Redis counts each once however often it runs. */
  private admissions = 0;
  private readonly estimate: number;
  private readonly key: LimitScope | undefined;
  private readonly budget: BudgetCheck | undefined;

  constructor(
    private readonly limiter: Limiter,
    private readonly metrics: GatewayMetrics,
    private readonly requestId: string,
    limits: GatewayConfig['limits'],
    authorization: string | undefined,
    bodyBytes: number,
    body: Record<string, unknown>,
    apiKey?: ApiKeyRecord,
    /** Cluster mode: where admissions' spend figures are kept for routing and the fallback limiter. */
    private readonly spend?: SpendObservations,
    checkBudget = true,
    /** Past the key's concurrency limit, where the request waits for a slot of its key (else: refused at once). */
    private readonly keyConcurrency?: KeyConcurrency,
  ) {
    this.budget = checkBudget && apiKey ? budgetCheckOf(apiKey, Date.now()) : undefined;
    // A budget is checked with the key's limits: it needs the key's scope even when the key has no rate limits.
    this.key = keyScope(authorization, limits.perKey, apiKey) ?? (this.budget && apiKey ? { id: `key:${apiKey.id}`, limits: {} } : undefined);
    this.estimate = estimateTokens(bodyBytes, body, limits.completionTokensEstimate);
  }

  /**
   * Admits the request; returns the index in `order` of the first deployment to try, at once when nothing limits it
   * (no round trip, no turn of the event loop). Throws (rejects with) a 429 when refused. Past the key's
   * concurrency limit, waits for a slot of its key at `place`, for at most `queueTimeoutMs`; when the client leaves
   * meanwhile (`clientGone`), nothing is admitted and the caller, which watches the same signal, stops. The signal is
   * asked of `clientGone` only for that wait: an AbortController is not free, and most requests never wait.
   */
  admit(order: readonly Deployment[], model: string, place?: QueuePlace, clientGone?: { readonly signal: AbortSignal }, queueTimeoutMs = 0): number | Promise<number> {
    const firstUnlimited = order.findIndex((deployment) => !hasLimits(deployment.limits));
    if (!this.key && firstUnlimited === 0) return 0;
    const keyWait = place && clientGone && this.key?.limits.concurrency ? { place, signal: clientGone.signal, timeoutMs: queueTimeoutMs } : undefined;
    return this.admitThroughLimiter(firstUnlimited === -1 ? order : order.slice(0, firstUnlimited + 1), model, keyWait);
  }

  private async admitThroughLimiter(candidates: readonly Deployment[], model: string, keyWait: KeyWait | undefined): Promise<number> {
    let result: AdmissionResult;
    if (keyWait && this.keyConcurrency && this.key) {
      const waited = await this.keyConcurrency.admit(this.key, keyWait, () => this.admitOnce(candidates));
      // The client left while waiting for its key: nothing was admitted, and the caller sees the signal.
      if (!waited) return 0;
      this.queuedMs = waited.waitedMs;
      result = waited.result;
    } else {
      result = await this.admitOnce(candidates);
    }
    if (this.key) this.headers = rateLimitHeaders(this.key.limits, result.key);
    if (this.budget && result.spend) this.spend?.observe(this.budget, result.spend);
    if (!result.admitted) {
      this.metrics.recordRateLimited(result.refusedBy, result.limit);
      if (this.budget && (result.limit === 'daily_budget' || result.limit === 'monthly_budget')) throw budgetSpentError(this.budget, result.limit);
      const error = rateLimitedError(result, model);
      Object.assign(error.headers, this.headers);
      throw error;
    }
    this.admitted = true;
    if (this.key && result.key) this.hold(this.key, result.key.windowStart);
    this.hold(deploymentScope(candidates[result.deploymentIndex]!), result.deploymentWindowStart);
    return result.deploymentIndex;
  }

  /** One admission call for the key and `candidates`, numbered so that Redis counts it once. */
  private admitOnce(candidates: readonly Deployment[]): Promise<AdmissionResult> {
    return this.call(() =>
      this.limiter.admit({
        requestId: this.requestId,
        admission: this.admissions++,
        key: this.key,
        deployments: candidates.map(deploymentScope),
        estimatedTokens: this.estimate,
        ...(this.budget ? { budget: this.budget } : {}),
      }),
    );
  }

  /** Before failing over to `deployment`: false when its own limits have no room. */
  async admitFailover(deployment: Deployment): Promise<boolean> {
    if (!hasLimits(deployment.limits)) return true;
    const scope = deploymentScope(deployment);
    const result = await this.call(() =>
      this.limiter.admit({ requestId: this.requestId, admission: this.admissions++, deployments: [scope], estimatedTokens: this.estimate }),
    );
    if (result.admitted) this.hold(scope, result.deploymentWindowStart);
    return result.admitted;
  }

  /** Frees slots and settles tokens to `totalTokens`; with no usage, an answered request keeps its estimate. */
  release(totalTokens: number | undefined, answered: boolean): void {
    if (this.held.length === 0 && !this.admitted) return;
    // Told once: the fallback limiter forgets the request then (a key with only a budget holds no scope).
    this.admitted = false;
    const correction = totalTokens !== undefined ? totalTokens - this.estimate : answered ? 0 : -this.estimate;
    // Each hold is released once: a later call releases only what was taken since.
    const scopes = this.held.splice(0);
    this.limiter.release({ requestId: this.requestId, scopes, tokenCorrection: correction }).catch(() => undefined);
    // After the release is sent: a waiter's admission, on the same connection, runs after it.
    const keySlot = this.keyConcurrency && this.key?.limits.concurrency ? scopes.find((scope) => scope.id === this.key!.id) : undefined;
    if (keySlot) this.keyConcurrency!.released(keySlot.id);
  }

  private hold(scope: LimitScope, windowStart: number): void {
    if (!hasLimits(scope.limits)) return;
    this.held.push({ id: scope.id, windowStart, hasConcurrencyLimit: Boolean(scope.limits.concurrency) });
  }

  private async call<T>(operation: () => Promise<T>): Promise<T> {
    try {
      return await operation();
    } catch (error) {
      if (error instanceof LimitsUnavailableError) {
        throw new GatewayError('Rate limits cannot be checked right now; the gateway is configured to refuse requests meanwhile.', {
          status: 503,
          code: 'limits_unavailable',
          type: 'server_error',
          retryable: true,
          retryAfterSeconds: 1,
          cause: error,
        });
      }
      if (error instanceof LimiterFailedError) {
        // Not `internal_error`: RedisHealth reports these failures itself, at most once a minute, not per request.
        throw new GatewayError('The gateway could not check this request’s limits (an internal error).', {
          status: 500,
          code: 'limiter_failed',
          type: 'server_error',
          retryable: false,
          cause: error,
        });
      }
      throw error;
    }
  }
}
