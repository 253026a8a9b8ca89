import type { Limiter } from '../limiter.js';
import { LimiterFailedError } from '../limiter-errors.js';
import {
  LIMIT_WINDOW_MS,
  type AdmissionRequest,
  type AdmissionResult,
  type LimitKind,
  type LimitScope,
  type RateLimits,
  type Release,
  type SpendReader,
  type SpendStatus,
  type WindowStatus,
} from '../limits.js';

interface Window {
  start: number;
  requests: number;
  tokens: number;
}

/**
 * The limits within one process: embedded mode, and a replica's fallback while Redis is unreachable (then with
 * `share` set to the replica's part of each limit). Same semantics as the admitRequest/releaseRequest scripts.
 */
export class MemoryLimiter implements Limiter {
  private readonly windows = new Map<string, Window>();
  private readonly leases = new Map<string, Set<string>>();

  constructor(
    private readonly clock: () => number,
    /** Fraction of every limit this limiter enforces (1 = all of it). */
    private readonly share: () => number = () => 1,
    /** Where budgets read spend; without it, budgets are not enforced here. */
    private readonly spend?: SpendReader,
  ) {}

  private admissions = 0;

  async admit(request: AdmissionRequest): Promise<AdmissionResult> {
    // As the admitRequest script refuses them: a fraction or NaN would stick in the window, a negative count lift it.
    if (!Number.isSafeInteger(request.estimatedTokens) || request.estimatedTokens < 0) {
      throw new LimiterFailedError(`estimated tokens must be a whole number from 0: ${request.estimatedTokens}`);
    }
    const now = this.clock();
    if (++this.admissions % 1_000 === 0) this.prune(now);
    const spend = this.spendOf(request);
    if (request.key && request.budget && spend) {
      // Budgets are not split by `share`: the spend read is the cluster's (or this process's, embedded).
      const { dailyNanoUsd, monthlyNanoUsd } = request.budget;
      const over = dailyNanoUsd >= 0 && spend.dayNanoUsd >= dailyNanoUsd ? 'daily_budget' : monthlyNanoUsd >= 0 && spend.monthNanoUsd >= monthlyNanoUsd ? 'monthly_budget' : undefined;
      if (over) return { admitted: false, refusedBy: 'key', limit: over, retryAfterMs: 0, key: this.status(request.key.id, now), spend };
    }
    if (request.key) {
      const refusal = this.refusal(request.key, request.estimatedTokens, now);
      if (refusal) return { admitted: false, refusedBy: 'key', ...refusal, key: this.status(request.key.id, now), ...(spend ? { spend } : {}) };
    }
    const index = request.deployments.findIndex((scope) => !this.refusal(scope, request.estimatedTokens, now));
    if (index === -1) {
      const refusals = request.deployments.map((scope) => this.refusal(scope, request.estimatedTokens, now)!);
      const soonest = refusals.reduce((best, next) => (next.retryAfterMs < best.retryAfterMs ? next : best), refusals[0] ?? { limit: 'requests' as LimitKind, retryAfterMs: LIMIT_WINDOW_MS });
      return { admitted: false, refusedBy: 'deployments', ...soonest, key: request.key && this.status(request.key.id, now), ...(spend ? { spend } : {}) };
    }
    if (request.key) this.take(request.key, request, now);
    const deploymentWindow = this.take(request.deployments[index]!, request, now);
    return {
      admitted: true,
      deploymentIndex: index,
      key: request.key && this.status(request.key.id, now),
      deploymentWindowStart: deploymentWindow.start,
      ...(spend ? { spend } : {}),
    };
  }

  private spendOf(request: AdmissionRequest): SpendStatus | undefined {
    const { budget } = request;
    if (!budget || !this.spend) return undefined;
    return { dayNanoUsd: this.spend.spentNanoUsd(budget.keyId, budget.day), monthNanoUsd: this.spend.spentNanoUsd(budget.keyId, budget.month) };
  }

  async release(release: Release): Promise<void> {
    if (!Number.isSafeInteger(release.tokenCorrection)) throw new LimiterFailedError(`the token correction must be a whole number: ${release.tokenCorrection}`);
    for (const scope of release.scopes) {
      this.leases.get(scope.id)?.delete(release.requestId);
      const window = this.windows.get(scope.id);
      if (window && window.start === scope.windowStart) window.tokens = Math.max(0, window.tokens + release.tokenCorrection);
    }
  }

  /** Forgets windows that have ended and scopes with no request in flight, so memory follows the live keys. */
  private prune(now: number): void {
    for (const [scopeId, window] of this.windows) if (now >= window.start + LIMIT_WINDOW_MS) this.windows.delete(scopeId);
    for (const [scopeId, held] of this.leases) if (held.size === 0) this.leases.delete(scopeId);
  }

  /** The scopes this limiter keeps state for (windows and leases): what its memory grows with. */
  scopeIds(): string[] {
    return [...new Set([...this.windows.keys(), ...this.leases.keys()])];
  }

  concurrencyRoom(scope: LimitScope): number {
    const concurrency = this.scaled(scope.limits.concurrency);
    return concurrency ? concurrency - (this.leases.get(scope.id)?.size ?? 0) : Number.POSITIVE_INFINITY;
  }

  /** Leases in one process end with the process: nothing to renew. */
  async renew(): Promise<void> {}

  private scaled(limit: number | undefined): number {
    return limit ? Math.max(1, Math.floor(limit * this.share())) : 0;
  }

  private window(scopeId: string, now: number): Window {
    const window = this.windows.get(scopeId);
    if (window && now < window.start + LIMIT_WINDOW_MS) return window;
    const fresh = { start: now, requests: 0, tokens: 0 };
    this.windows.set(scopeId, fresh);
    return fresh;
  }

  private refusal(scope: LimitScope, estimate: number, now: number): { limit: LimitKind; retryAfterMs: number } | undefined {
    const limits: RateLimits = scope.limits;
    const window = this.window(scope.id, now);
    const reset = window.start + LIMIT_WINDOW_MS - now;
    const requests = this.scaled(limits.requestsPerMinute);
    const tokens = this.scaled(limits.tokensPerMinute);
    const concurrency = this.scaled(limits.concurrency);
    if (requests && window.requests + 1 > requests) return { limit: 'requests', retryAfterMs: reset };
    if (tokens && window.tokens + estimate > tokens) return { limit: 'tokens', retryAfterMs: reset };
    if (concurrency && (this.leases.get(scope.id)?.size ?? 0) >= concurrency) return { limit: 'concurrency', retryAfterMs: 1000 };
    return undefined;
  }

  private take(scope: LimitScope, request: AdmissionRequest, now: number): Window {
    const window = this.window(scope.id, now);
    window.requests += 1;
    window.tokens += request.estimatedTokens;
    if (scope.limits.concurrency) {
      const held = this.leases.get(scope.id) ?? new Set<string>();
      held.add(request.requestId);
      this.leases.set(scope.id, held);
    }
    return window;
  }

  private status(scopeId: string, now: number): WindowStatus {
    const window = this.window(scopeId, now);
    return { windowStart: window.start, requests: window.requests, tokens: window.tokens, resetMs: window.start + LIMIT_WINDOW_MS - now };
  }
}
