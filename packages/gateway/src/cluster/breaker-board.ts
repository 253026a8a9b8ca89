import CircuitBreaker from 'opossum';
import { GatewayError, type BreakerEvent, type BreakerStore, type Deployment, type Logger } from '@dosrouter/shared';
import type { AttemptResult } from '../upstream/attempt.js';

/** How long one replica may hold the cluster-wide half-open trial before another may try. */
const TRIAL_TTL_MS = 30_000;

type BreakerState = 'closed' | 'open' | 'half_open';
type OpenCause = NonNullable<BreakerEvent['cause']>;
type Breaker = CircuitBreaker<[() => Promise<AttemptResult>], AttemptResult>;

/** opossum keeps its live options on `options` (lib/circuit.js); @types/opossum leaves the property out. */
function optionsOf(breaker: Breaker): { resetTimeout: number } {
  return (breaker as unknown as { options: { resetTimeout: number } }).options;
}

/** A failed attempt that counts against the breaker, thrown so opossum's statistics see it. */
class CountedFailure extends Error {
  constructor(readonly result: AttemptResult & { ok: false }) {
    super(result.error.message);
  }
}

/** 5xx, timeouts and connection failures are the backend's fault; 4xx are the client's and never trip a circuit. */
function countsAgainstBreaker(error: GatewayError): boolean {
  return error.status >= 500 || error.status === 408 || error.status === 429;
}

export const circuitOpen = (deploymentId: string, remainingMs: number | undefined): GatewayError =>
  new GatewayError(`The circuit for ${deploymentId} is open: it failed recently and is cooling down.`, {
    status: 503,
    code: 'circuit_open',
    type: 'server_error',
    retryable: true,
    retryAfterSeconds: remainingMs === undefined ? undefined : Math.max(1, Math.ceil(remainingMs / 1000)),
  });

/**
 * One opossum circuit breaker per deployment, kept in step across replicas: a circuit this replica opens is
 * published (a key with the cooldown as TTL, plus pub/sub); one opened elsewhere is opened here; a half-open
 * circuit lets one trial request through cluster-wide; a successful trial closes it everywhere.
 */
export class BreakerBoard {
  private readonly breakers = new Map<string, Breaker>();
  /** Deployments whose circuit is open right now: a live set that routing snapshots share. */
  readonly openIds = new Set<string>();
  /** When each open circuit turns half-open (ms since the epoch), for the retry-after a client is told. */
  private readonly openUntil = new Map<string, number>();
  /** Why each open circuit opened: a health probe may close one opened by errors, never one a backend's 429 holds. */
  private readonly openCause = new Map<string, OpenCause>();
  /** When each open circuit opened (ms since the epoch): a probe that started before cannot close it. */
  private readonly openedAt = new Map<string, number>();
  /** The cause of the opening under way (opossum's 'open' handler runs synchronously inside open()). */
  private openingCause: OpenCause = 'errors';
  /** Set while applying another replica's change, so that it is not published back. */
  private applyingRemote = false;

  constructor(
    deployments: readonly Deployment[],
    private readonly replica: string,
    private readonly store: BreakerStore | undefined,
    private readonly logger: Logger,
    private readonly onState: (deploymentId: string, state: BreakerState) => void = () => undefined,
  ) {
    for (const deployment of deployments) this.breakers.set(deployment.id, this.create(deployment));
  }

  private create(deployment: Deployment): Breaker {
    const settings = deployment.breaker;
    const breaker = new CircuitBreaker(
      async (attempt: () => Promise<AttemptResult>) => {
        const result = await attempt();
        if (!result.ok && countsAgainstBreaker(result.error)) throw new CountedFailure(result);
        return result;
      },
      {
        timeout: false, // the attempt has its own deadlines; a stream may rightly last minutes
        errorThresholdPercentage: settings.errorThresholdPercentage,
        volumeThreshold: settings.volumeThreshold,
        resetTimeout: settings.cooldownMs,
        rollingCountTimeout: settings.windowMs,
        rollingCountBuckets: 10,
        rollingPercentilesEnabled: false,
      },
    );
    const id = deployment.id;
    breaker.on('open', () => {
      this.openIds.add(id);
      // opossum emits 'open' synchronously from open(), while resetTimeout holds this opening's duration.
      this.openUntil.set(id, Date.now() + optionsOf(breaker).resetTimeout);
      const cause = this.openingCause;
      this.openCause.set(id, cause);
      this.openedAt.set(id, Date.now());
      this.onState(id, 'open');
      if (this.applyingRemote || cause !== 'errors') return;
      this.logger.warn('circuit opened', { deployment: id, cooldownMs: optionsOf(breaker).resetTimeout });
      this.publish({ deploymentId: id, state: 'open', durationMs: optionsOf(breaker).resetTimeout, replica: this.replica, reason: 'error rate', cause });
    });
    breaker.on('halfOpen', () => {
      this.openIds.delete(id);
      this.openCause.delete(id);
      this.openedAt.delete(id);
      this.onState(id, 'half_open');
    });
    breaker.on('close', () => {
      this.openIds.delete(id);
      this.openCause.delete(id);
      this.openedAt.delete(id);
      this.onState(id, 'closed');
      if (this.applyingRemote) return;
      this.logger.info('circuit closed', { deployment: id });
      this.publish({ deploymentId: id, state: 'closed', replica: this.replica });
    });
    return breaker;
  }

  /** Routing's view: false while the circuit is open (half-open counts as available: it may take the trial). */
  isOpen(deploymentId: string): boolean {
    return this.breakers.get(deploymentId)?.opened ?? false;
  }

  /** Runs an attempt through the deployment's breaker; an open circuit answers at once with `circuit_open`. */
  async run(deploymentId: string, attempt: () => Promise<AttemptResult>): Promise<AttemptResult> {
    const breaker = this.breakers.get(deploymentId);
    if (!breaker) return attempt();
    if (breaker.opened) return { ok: false, error: this.openError(deploymentId) };
    if (breaker.halfOpen && this.store) {
      const mine = await this.store.tryTrial(deploymentId, this.replica, TRIAL_TTL_MS).catch(() => true);
      if (!mine) return { ok: false, error: this.openError(deploymentId) };
    }
    try {
      return await breaker.fire(attempt);
    } catch (error) {
      if (error instanceof CountedFailure) return error.result;
      if ((error as { code?: string }).code === 'EOPENBREAKER') return { ok: false, error: this.openError(deploymentId) };
      throw error;
    }
  }

  /** A 429 with Retry-After: the deployment is open for exactly that long, on every replica. */
  openFor(deploymentId: string, durationMs: number, reason: string): void {
    const breaker = this.breakers.get(deploymentId);
    if (!breaker || this.openCause.get(deploymentId) === 'rate_limit') return;
    if (breaker.opened) {
      // The 429 itself tripped the error threshold: the circuit is open, but it must stay open for the time the
      // backend asked, and no health probe may close it. Reopen it as a rate limit (silently: never seen closed).
      this.unpublished(() => breaker.close());
    }
    this.openLocally(breaker, durationMs, 'rate_limit');
    this.logger.warn('circuit opened', { deployment: deploymentId, cooldownMs: durationMs, reason });
    this.publish({ deploymentId, state: 'open', durationMs, replica: this.replica, reason, cause: 'rate_limit' });
  }

  /**
   * A successful health probe that started at `probeStartedAt`: closes the deployment's circuit when errors opened
   * it before the probe started, here and on every replica. One opened by a backend's 429 stays open for the time
   * the backend asked. Returns whether it closed.
   */
  closeAfterProbe(deploymentId: string, probeStartedAt: number): boolean {
    const breaker = this.breakers.get(deploymentId);
    if (!breaker?.opened || this.openCause.get(deploymentId) === 'rate_limit') return false;
    // A success that predates the failures that opened the circuit proves nothing about now.
    if ((this.openedAt.get(deploymentId) ?? 0) > probeStartedAt) return false;
    this.logger.info('circuit closed by a successful health probe', { deployment: deploymentId });
    breaker.close();
    return true;
  }

  /** Applies another replica's transition. */
  apply(event: BreakerEvent): void {
    if (event.replica === this.replica) return;
    const breaker = this.breakers.get(event.deploymentId);
    if (!breaker) return;
    this.unpublished(() => {
      if (event.state === 'open' && !breaker.opened) this.openLocally(breaker, event.durationMs ?? optionsOf(breaker).resetTimeout, event.cause ?? 'errors');
      if (event.state === 'closed' && !breaker.closed) breaker.close();
    });
  }

  /** Runs a transition that the event handlers must neither log as this replica's nor publish. */
  private unpublished(transition: () => void): void {
    this.applyingRemote = true;
    try {
      transition();
    } finally {
      this.applyingRemote = false;
    }
  }

  /** The poll's view of open circuits: opens here what is open elsewhere, for whatever time it has left. */
  syncOpen(openCircuits: ReadonlyMap<string, number>): void {
    for (const [deploymentId, remainingMs] of openCircuits) {
      this.apply({ deploymentId, state: 'open', durationMs: remainingMs, replica: '(poll)' });
    }
  }

  states(): Map<string, BreakerState> {
    const states = new Map<string, BreakerState>();
    for (const [id, breaker] of this.breakers) states.set(id, breaker.opened ? 'open' : breaker.halfOpen ? 'half_open' : 'closed');
    return states;
  }

  shutdown(): void {
    for (const breaker of this.breakers.values()) breaker.shutdown();
  }

  /** How long until an open circuit turns half-open, or undefined when it is not open here. */
  remainingMs(deploymentId: string): number | undefined {
    const until = this.openUntil.get(deploymentId);
    return until === undefined || !this.openIds.has(deploymentId) ? undefined : Math.max(0, until - Date.now());
  }

  private openError(deploymentId: string): GatewayError {
    const until = this.openUntil.get(deploymentId);
    return circuitOpen(deploymentId, until === undefined ? undefined : until - Date.now());
  }

  /** opossum starts its half-open timer from `options.resetTimeout` when it opens: set it for this opening only. */
  private openLocally(breaker: Breaker, durationMs: number, cause: OpenCause): void {
    const configured = optionsOf(breaker).resetTimeout;
    optionsOf(breaker).resetTimeout = Math.max(1, Math.round(durationMs));
    this.openingCause = cause;
    try {
      breaker.open();
    } finally {
      optionsOf(breaker).resetTimeout = configured;
      this.openingCause = 'errors';
    }
  }

  private publish(event: BreakerEvent): void {
    this.store?.publish(event).catch((error: unknown) => {
      this.logger.warn('could not publish a circuit change; other replicas will see it on their next poll if Redis returns', {
        deployment: event.deploymentId,
        error: (error as Error).message,
      });
    });
  }
}
