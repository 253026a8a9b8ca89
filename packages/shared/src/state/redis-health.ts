import { redisFailureKind } from './redis/redis-failure.js';

/**
 * Whether Redis is answering, as the gateway last saw it. A timeout or a connection failure marks it down and
 * skips Redis on the request path for `retryAfterMs` (a slow Redis would otherwise cost every request its full
 * deadline). Only a success that started after the last failure marks it up again (the background poll reports
 * those), so an answer that was already on its way when Redis went down cannot flap the state. An error Redis
 * answered with (a script refusing its arguments, any other error reply) is not an outage: it changes nothing,
 * and is reported as the bug it is, at the first one, then at most once per `reportIntervalMs` with the number
 * since the last report, so one bad client cannot flood the log.
 */
export class RedisHealth {
  private down = false;
  private skipUntil = 0;
  private lastFailureAt = -Infinity;
  private lastKind: 'timeout' | 'unavailable' = 'unavailable';
  private readonly listeners: ((degraded: boolean, cause?: unknown) => void)[] = [];
  private rejectedSinceReport = 0;
  private lastReportAt = -Infinity;

  constructor(
    private readonly clock: () => number,
    private readonly retryAfterMs = 1_000,
    private readonly reportRejected: (error: unknown, failures: number) => void = () => undefined,
    private readonly reportIntervalMs = 60_000,
  ) {}

  get degraded(): boolean {
    return this.down;
  }

  /** What the last failure was: Redis too slow (`timeout`) or not there (`unavailable`). */
  get lastFailure(): 'timeout' | 'unavailable' {
    return this.lastKind;
  }

  /** False while a recent failure says not to wait on Redis on the request path. */
  shouldTry(): boolean {
    return !this.down || this.clock() >= this.skipUntil;
  }

  /** Returns false, and only reports it, when `cause` is not Redis being slow or unavailable (see redisFailureKind). */
  markFailure(cause: unknown): boolean {
    const kind = redisFailureKind(cause);
    if (kind === 'rejected') {
      this.report(cause);
      return false;
    }
    const now = this.clock();
    this.lastFailureAt = now;
    this.lastKind = kind;
    this.skipUntil = now + this.retryAfterMs;
    if (this.down) return true;
    this.down = true;
    for (const listener of this.listeners) listener(true, cause);
    return true;
  }

  /** `startedAt`: when the successful exchange began, on this health's clock. */
  markSuccess(startedAt: number): void {
    if (!this.down || startedAt <= this.lastFailureAt) return;
    this.down = false;
    for (const listener of this.listeners) listener(false);
  }

  onChange(listener: (degraded: boolean, cause?: unknown) => void): void {
    this.listeners.push(listener);
  }

  private report(error: unknown): void {
    this.rejectedSinceReport += 1;
    const now = this.clock();
    if (now - this.lastReportAt < this.reportIntervalMs) return;
    this.reportRejected(error, this.rejectedSinceReport);
    this.rejectedSinceReport = 0;
    this.lastReportAt = now;
  }
}
