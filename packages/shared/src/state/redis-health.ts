/**
 * Whether Redis is answering, as the gateway last saw it. A failure marks it down and skips Redis on the
 * request path for `retryAfterMs` (a slow Redis would otherwise cost every request its full deadline). Only a
 * success that started after the last failure marks it up again (the background poll reports those), so an
 * answer that was already on its way when Redis went down cannot flap the state.
 */
export class RedisHealth {
  private down = false;
  private skipUntil = 0;
  private lastFailureAt = -Infinity;
  private readonly listeners: ((degraded: boolean, cause?: unknown) => void)[] = [];

  constructor(
    private readonly clock: () => number,
    private readonly retryAfterMs = 1_000,
  ) {}

  get degraded(): boolean {
    return this.down;
  }

  /** False while a recent failure says not to wait on Redis on the request path. */
  shouldTry(): boolean {
    return !this.down || this.clock() >= this.skipUntil;
  }

  markFailure(cause: unknown): void {
    const now = this.clock();
    this.lastFailureAt = now;
    this.skipUntil = now + this.retryAfterMs;
    if (this.down) return;
    this.down = true;
    for (const listener of this.listeners) listener(true, cause);
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
}
