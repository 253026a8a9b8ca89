import { LIMIT_WINDOW_MS } from './limits.js';

/**
 * The part of each limit one replica enforces while it decides without Redis: 1 / the most live replicas it saw
 * within the last window (60 s), not 1 / the count it sees now. A slow Redis delays every replica's heartbeat, so
 * the live count can drop while all of them still serve; the recent peak keeps the shares' sum within the limit.
 * After replicas really leave, the others keep the smaller share for up to a window: fewer admissions, never more.
 */
export class ReplicaShare {
  private peak = 1;
  private peakSeenAt = -Infinity;

  constructor(
    private readonly clock: () => number,
    private readonly horizonMs = LIMIT_WINDOW_MS,
  ) {}

  /** The live replicas the last heartbeat exchange counted (this one included). */
  observe(liveReplicas: number): void {
    const now = this.clock();
    if (liveReplicas >= this.peak || now - this.peakSeenAt > this.horizonMs) {
      this.peak = Math.max(1, liveReplicas);
      this.peakSeenAt = now;
    }
  }

  share(): number {
    return 1 / this.peak;
  }
}
