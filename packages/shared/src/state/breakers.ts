/** A circuit state change that every replica applies. */
export interface BreakerEvent {
  readonly deploymentId: string;
  readonly state: 'open' | 'closed';
  /** For `open`: how long it stays open from now (ms). */
  readonly durationMs?: number;
  /** The replica that made the change; replicas ignore their own events. */
  readonly replica: string;
  readonly reason?: string;
  /**
   * For `open`: why. `errors` (the error rate, a failed trial) may be closed early by a successful health probe;
   * `rate_limit` (a backend's 429 with Retry-After) stays open for the time the backend asked, whatever probes see.
   */
  readonly cause?: 'errors' | 'rate_limit';
  /** For `open`, as stored in Redis: when it opened (ms since the epoch); a probe that started earlier cannot close it. */
  readonly openedAt?: number;
}

/** Where breaker transitions are shared across replicas. Embedded mode has none: the local breakers are all. */
export interface BreakerStore {
  publish(event: BreakerEvent): Promise<void>;
  /** Deployments open cluster-wide right now, with the milliseconds each stays open. */
  readOpen(deploymentIds: readonly string[]): Promise<Map<string, number>>;
  /** Takes the one half-open trial of a deployment cluster-wide; false when another replica holds it. */
  tryTrial(deploymentId: string, replica: string, ttlMs: number): Promise<boolean>;
  subscribe(onEvent: (event: BreakerEvent) => void): Promise<void>;
  close(): Promise<void>;
}
