import type { Limiter } from './limiter.js';
import type { AdmissionRequest, AdmissionResult, Release } from './limits.js';
import type { RedisHealth } from './redis-health.js';

export class LimitsUnavailableError extends Error {
  override readonly name = 'LimitsUnavailableError';
}

/**
 * Redis first; while Redis is unreachable or past its deadline, the fallback limiter enforces this replica's
 * share of each limit (fail open), or admission is refused (fail closed). Requests admitted by the fallback are
 * released there; nothing needs replaying when Redis returns, its windows simply carry on.
 */
export class ResilientLimiter implements Limiter {
  private readonly admittedByFallback = new Set<string>();

  constructor(
    private readonly primary: Limiter,
    private readonly fallback: Limiter,
    private readonly health: RedisHealth,
    private readonly failMode: 'open' | 'closed',
  ) {}

  async admit(request: AdmissionRequest): Promise<AdmissionResult> {
    if (this.health.shouldTry()) {
      try {
        return await this.primary.admit(request);
      } catch (error) {
        this.health.markFailure(error);
      }
    }
    if (this.failMode === 'closed') throw new LimitsUnavailableError('rate limits cannot be checked while Redis is unreachable');
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
      // The lease expires by itself and the window's estimate stays: a small overcount, never an undercount.
      this.health.markFailure(error);
    }
  }

  async renew(requests: readonly { requestId: string; scopeIds: readonly string[] }[]): Promise<void> {
    await this.primary.renew(requests.filter((request) => !this.admittedByFallback.has(request.requestId)));
  }
}
