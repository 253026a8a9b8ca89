import type { Limiter } from './limiter.js';
import { hasLimits, type AdmissionRequest, type AdmissionResult, type LimitScope, type Release } from './limits.js';
import { LimiterFailedError, LimitsUnavailableError } from './limiter-errors.js';
import type { RedisHealth } from './redis-health.js';

/** What a replica does with a request's limits when Redis cannot say: count them locally, or refuse the request. */
export type WithoutRedis = 'local' | 'refuse';

export interface ResilientLimiterOptions {
  /** Redis unreachable (connection errors): `open` counts every limit locally, `closed` refuses (`redis.failMode`). */
  readonly failMode: 'open' | 'closed';
  /** Redis too slow (no answer within `redis.commandTimeoutMs`), per kind of limit (`limits.onRedisTimeout`). */
  readonly onTimeout: { readonly rateLimits: WithoutRedis; readonly budgets: WithoutRedis };
}

/** The Redis limiter, which can undo an admission whose answer came too late. */
export interface CancellableLimiter extends Limiter {
  cancel(request: AdmissionRequest): Promise<boolean>;
}

/**
 * Redis first. When Redis does not answer in time or cannot be reached, the admission Redis may still run is
 * cancelled there (so a request is never counted both in Redis and locally), and the request is decided without
 * Redis: by the fallback limiter, which enforces this replica's share of each limit, or refused. Which of the two
 * depends on why (timeout or unreachable) and on the kind of limit (see ResilientLimiterOptions); the same holds
 * while the replica skips Redis after a failure. Requests admitted by the fallback are released there; nothing
 * needs replaying when Redis returns, its windows simply carry on.
 */
export class ResilientLimiter implements Limiter {
  private readonly admittedByFallback = new Set<string>();

  constructor(
    private readonly primary: CancellableLimiter,
    private readonly fallback: Limiter,
    private readonly health: RedisHealth,
    private readonly options: ResilientLimiterOptions,
  ) {}

  async admit(request: AdmissionRequest): Promise<AdmissionResult> {
    if (this.health.shouldTry()) {
      try {
        return await this.primary.admit(request);
      } catch (error) {
        this.markFailure(error);
        // Redis may have run the admission all the same (its answer was late, or lost with the connection): take it
        // back, so that it counts once, wherever this replica now decides. Sent on the same connection, the cancel
        // runs after the admission; one that fails leaves the admission counted, an overcount, never an undercount.
        this.primary.cancel(request).catch((cancelError: unknown) => this.health.markFailure(cancelError));
      }
    }
    if (this.refusesWithoutRedis(request)) throw new LimitsUnavailableError('limits cannot be checked while Redis is unreachable or too slow');
    const result = await this.fallback.admit(request);
    if (result.admitted) this.admittedByFallback.add(request.requestId);
    return result;
  }

  async release(release: Release): Promise<void> {
    if (this.admittedByFallback.delete(release.requestId)) {
      await this.fallback.release(release);
      return;
    }
    try {
      await this.primary.release(release);
    } catch (error) {
      // Unreachable: the lease expires by itself and the window's estimate stays, a small overcount, never an
      // undercount. A script's own error is reported by the health; the request is over either way.
      this.health.markFailure(error);
    }
  }

  async renew(requests: readonly { requestId: string; scopeIds: readonly string[] }[]): Promise<void> {
    await this.primary.renew(requests.filter((request) => !this.admittedByFallback.has(request.requestId)));
  }

  /** Where admission would look now: Redis, else (skipping it, or when the read fails) the fallback's share. */
  async concurrencyRoom(scope: LimitScope): Promise<number> {
    if (this.health.shouldTry()) {
      try {
        return await this.primary.concurrencyRoom(scope);
      } catch (error) {
        this.health.markFailure(error);
      }
    }
    return this.fallback.concurrencyRoom(scope);
  }

  /** A timeout or an unreachable Redis goes on to the fallback; any other failure is the limiter's own: thrown. */
  private markFailure(error: unknown): void {
    if (this.health.markFailure(error)) return;
    throw new LimiterFailedError(`the limiter failed: ${error instanceof Error ? error.message : String(error)}`, { cause: error });
  }

  private refusesWithoutRedis(request: AdmissionRequest): boolean {
    if (this.health.lastFailure === 'unavailable') return this.options.failMode === 'closed';
    const { rateLimits, budgets } = this.options.onTimeout;
    const rateLimited = (request.key !== undefined && hasLimits(request.key.limits)) || request.deployments.some((scope) => hasLimits(scope.limits));
    return (rateLimited && rateLimits === 'refuse') || (request.budget !== undefined && budgets === 'refuse');
  }
}
