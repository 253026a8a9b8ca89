import type { RedisClient } from './connection.js';
import type { RedisKeys } from '../keys.js';
import type { Limiter } from '../limiter.js';
import { LIMIT_WINDOW_MS, type AdmissionRequest, type AdmissionResult, type LimitKind, type LimitScope, type Release, type SpendStatus, type WindowStatus } from '../limits.js';
import type { ScriptCommands } from './scripts.js';

type AdmitReply = [number, number, string, number, number, number, number, number, number, number, number];

/** Limits shared by every replica: one `admitRequest` script call per request, exact across replicas. */
export class RedisLimiter implements Limiter {
  /** How long an admission record (and a cancel's tombstone) is kept: as long as the window or lease it counted in. */
  private readonly recordTtlMs: number;

  constructor(
    private readonly redis: RedisClient & ScriptCommands,
    private readonly keys: RedisKeys,
    /** How long a concurrency slot is held without renewal: what a dead replica's requests cost. */
    private readonly leaseMs: number,
  ) {
    this.recordTtlMs = Math.max(LIMIT_WINDOW_MS, leaseMs);
  }

  async admit(request: AdmissionRequest): Promise<AdmissionResult> {
    const scopes = request.key ? [request.key, ...request.deployments] : [...request.deployments];
    const keys = [this.keys.admissionRecord(request.requestId), ...this.scopeKeys(scopes)];
    const limits = scopes.flatMap(({ limits }) => [limits.requestsPerMinute ?? 0, limits.tokensPerMinute ?? 0, limits.concurrency ?? 0]);
    // A budget needs the key's scope (it is checked with the key's limits, before them).
    const budget = request.key ? request.budget : undefined;
    if (budget) {
      keys.push(this.keys.spend(budget.keyId, budget.day), this.keys.spend(budget.keyId, budget.month));
      // The script takes whole numbers up to 2^53 only; a budget beyond (over $9 million) is as good as none.
      limits.push(Math.min(budget.dailyNanoUsd, Number.MAX_SAFE_INTEGER), Math.min(budget.monthlyNanoUsd, Number.MAX_SAFE_INTEGER));
    }
    const reply = (await this.redis.dosrouterAdmitRequestV3(
      keys.length,
      ...keys,
      budget ? '2' : request.key ? '1' : '0',
      request.requestId,
      request.admission ?? 0,
      request.estimatedTokens,
      LIMIT_WINDOW_MS,
      this.leaseMs,
      this.recordTtlMs,
      ...limits,
    )) as AdmitReply;
    const [admitted, index, limit, retryAfterMs, keyStart, keyRequests, keyTokens, keyResetMs, deploymentStart, spentToday, spentThisMonth] = reply;
    const key: WindowStatus | undefined = request.key
      ? { windowStart: keyStart, requests: keyRequests, tokens: keyTokens, resetMs: keyResetMs }
      : undefined;
    const spend: SpendStatus | undefined = budget ? { dayNanoUsd: spentToday, monthNanoUsd: spentThisMonth } : undefined;
    if (admitted === 1) return { admitted: true, deploymentIndex: index - 1, key, deploymentWindowStart: deploymentStart, ...(spend ? { spend } : {}) };
    // -2: this admission was cancelled before it ran. Only a caller that gave up on it can have cancelled it, and
    // such a caller never reads this answer; refusing keeps the answer safe all the same.
    return { admitted: false, refusedBy: index === 0 ? 'key' : 'deployments', limit: limit as LimitKind, retryAfterMs, key, ...(spend ? { spend } : {}) };
  }

  /**
   * Undoes an admission whose answer the caller stopped waiting for, whether Redis ran it already, runs it later
   * or never: its counts and lease are taken back, and it cannot count afterwards. Off the request's path.
   */
  async cancel(request: AdmissionRequest): Promise<boolean> {
    const scopes = request.key ? [request.key, ...request.deployments] : [...request.deployments];
    const undone = await this.redis.dosrouterCancelAdmissionV1(
      1 + scopes.length * 2,
      this.keys.admissionRecord(request.requestId),
      ...this.scopeKeys(scopes),
      request.requestId,
      request.admission ?? 0,
      request.key ? '1' : '0',
      this.recordTtlMs,
    );
    return undone === 1;
  }

  async release(release: Release): Promise<void> {
    if (release.scopes.length === 0) return;
    const keys = [this.keys.admissionRecord(release.requestId), ...this.scopeKeys(release.scopes)];
    await this.redis.dosrouterReleaseRequestV2(
      keys.length,
      ...keys,
      release.requestId,
      release.tokenCorrection,
      ...release.scopes.flatMap((scope) => [String(scope.windowStart), scope.hasConcurrencyLimit ? '1' : '0']),
    );
  }

  async renew(requests: readonly { requestId: string; scopeIds: readonly string[] }[]): Promise<void> {
    if (requests.length === 0) return;
    const pipeline = this.redis.pipeline();
    const expiry = Date.now() + this.leaseMs;
    const touched = new Set<string>();
    for (const { requestId, scopeIds } of requests) {
      for (const scopeId of scopeIds) {
        const leases = this.keys.limitLeases(scopeId);
        // XX: only a lease that still exists is extended; a released request is not brought back.
        pipeline.zadd(leases, 'XX', expiry, requestId);
        touched.add(leases);
      }
    }
    for (const leases of touched) pipeline.pexpire(leases, this.leaseMs);
    await pipeline.exec();
  }

  /**
   * The scope's live leases, counted as admitRequest counts them (leases that expire later than now). Now is this
   * process's clock, not Redis' as in the script: a skew shifts only when a dead replica's lease stops counting.
   */
  async concurrencyRoom(scope: LimitScope): Promise<number> {
    const concurrency = scope.limits.concurrency;
    if (!concurrency) return Number.POSITIVE_INFINITY;
    return concurrency - (await this.redis.zcount(this.keys.limitLeases(scope.id), `(${Date.now()}`, '+inf'));
  }

  /** Each scope's window and lease set, in the scripts' order. */
  private scopeKeys(scopes: readonly { readonly id: string }[]): string[] {
    return scopes.flatMap((scope) => [this.keys.limitWindow(scope.id), this.keys.limitLeases(scope.id)]);
  }
}
