import CircuitBreaker from 'opossum';
import { GatewayError, type BreakerEvent, type BreakerStore, type Deployment, type Logger } from '@dosrouter/shared';
import type { AttemptResult } from '../upstream/attempt.js';

/** How long one replica may hold the cluster-wide half-open trial before another may try. */
const TRIAL_TTL_MS = 30_000;

type BreakerState = 'closed' | 'open' | 'half_open';
type OpenCause = NonNullable<BreakerEvent['cause']>;
/** What an attempt says about its backend: its fault, its success, or nothing (the client left, or our own code threw). */
type Verdict = 'failure' | 'success' | 'none';
type Breaker = CircuitBreaker<[Verdict], void>;

/** opossum keeps its live options on `options` (lib/circuit.js); @types/opossum leaves the property out. */
function optionsOf(breaker: Breaker): { resetTimeout: number } {
  return (breaker as unknown as { options: { resetTimeout: number } }).options;
}

/** Thrown inside the breaker's action so that opossum counts one backend fault. */
class BackendFault extends Error {
  constructor() {
    super('backend fault');
  }
}

/**
 * 5xx, timeouts and connection failures are the backend's fault; its 4xx answers show it working. A request the
 * client abandoned (499) says nothing about the backend, and neither does a circuit that was already open.
 */
function verdictOf(result: AttemptResult): Verdict {
  if (result.ok) return 'success';
  const { status, code } = result.error;
  if (code === 'client_closed' || code === 'circuit_open') return 'none';
  // A continuation that answered with another text than the one delivered: the backend worked as it should.
  if (code === 'upstream_continuation_mismatch') return 'success';
  return status >= 500 || status === 408 || status === 429 ? 'failure' : 'success';
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
  /** The settings each breaker was made with (JSON), so that a reload replaces only those it changed. */
  private readonly settings = new Map<string, string>();
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
  /** Deployments whose half-open trial is under way on this replica. */
  private readonly trials = new Set<string>();
  /** Set while applying another replica's change, so that it is not published back. */
  private applyingRemote = false;

  constructor(
    deployments: readonly Deployment[],
    private readonly replica: string,
    private readonly store: BreakerStore | undefined,
    private readonly logger: Logger,
    private readonly onState: (deploymentId: string, state: BreakerState) => void = () => undefined,
  ) {
    this.useDeployments(deployments);
  }

  /**
   * The deployments a (reloaded) config has: a circuit for each new one; a gone one's circuit is dropped; one whose
   * breaker settings changed gets a new circuit, open for what was left if the old one was open.
   */
  useDeployments(deployments: readonly Deployment[]): void {
    const wanted = new Set(deployments.map((deployment) => deployment.id));
    for (const [id, breaker] of this.breakers) {
      if (wanted.has(id)) continue;
      breaker.shutdown();
      this.forget(id);
    }
    for (const deployment of deployments) {
      const settings = JSON.stringify(deployment.breaker);
      const existing = this.breakers.get(deployment.id);
      if (existing && this.settings.get(deployment.id) === settings) continue;
      const remainingMs = existing?.opened ? this.remainingMs(deployment.id) : undefined;
      const cause = this.openCause.get(deployment.id) ?? 'errors';
      existing?.shutdown();
      this.forget(deployment.id);
      const breaker = this.create(deployment);
      this.breakers.set(deployment.id, breaker);
      this.settings.set(deployment.id, settings);
      if (remainingMs !== undefined) this.unpublished(() => this.openLocally(breaker, remainingMs, cause));
    }
  }

  private forget(id: string): void {
    this.breakers.delete(id);
    this.settings.delete(id);
    this.openIds.delete(id);
    this.openUntil.delete(id);
    this.openCause.delete(id);
    this.openedAt.delete(id);
    this.trials.delete(id);
  }

  private create(deployment: Deployment): Breaker {
    const settings = deployment.breaker;
    // opossum keeps the state machine and the rolling error rate; it is fed verdicts, never the attempt itself (see run).
    const breaker: Breaker = new CircuitBreaker(async (verdict: Verdict) => {
      if (verdict === 'failure') throw new BackendFault();
    }, {
      timeout: false, // verdicts are given after the attempt, which has its own deadlines
      errorThresholdPercentage: settings.errorThresholdPercentage,
      volumeThreshold: settings.volumeThreshold,
      resetTimeout: settings.cooldownMs,
      rollingCountTimeout: settings.windowMs,
      rollingCountBuckets: 10,
      rollingPercentilesEnabled: false,
    });
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

  /**
   * Runs an attempt through the deployment's breaker; an open circuit answers at once with `circuit_open`. Only the
   * attempt's result is judged: anything our own code throws (building a body, relaying) propagates to the caller
   * and counts neither way, so no client input can move a backend's circuit. A half-open circuit lets one trial
   * through, on this replica and (with a store) in the cluster; a trial that ends without a verdict frees the slot.
   */
  run(deploymentId: string, attempt: () => Promise<AttemptResult>): Promise<AttemptResult> {
    const breaker = this.breakers.get(deploymentId);
    if (breaker?.opened) return Promise.resolve({ ok: false, error: this.openError(deploymentId) });
    if (breaker?.halfOpen) return this.runTrial(deploymentId, breaker, attempt);
    // A closed circuit (the usual case) chains on the attempt instead of awaiting it: an async frame suspended for a
    // stream's whole life stays on the heap (attempt-layers.ts).
    let running: Promise<AttemptResult>;
    try {
      running = attempt();
    } catch (error) {
      return Promise.reject(error instanceof Error ? error : new Error(String(error)));
    }
    if (!breaker) return running;
    return running.then((result) => {
      // A reload replaced or dropped this circuit meanwhile (useDeployments): the shut-down one takes no verdict.
      // An attempt that began while the circuit was closed gives no verdict on a trial another request is making.
      if (this.breakers.get(deploymentId) !== breaker || !breaker.closed) return result;
      return this.judge(breaker, verdictOf(result)).then(() => result);
    });
  }

  /** The half-open circuit's one trial, if this request gets it (on this replica, and in the cluster with a store). */
  private async runTrial(deploymentId: string, breaker: Breaker, attempt: () => Promise<AttemptResult>): Promise<AttemptResult> {
    if (this.trials.has(deploymentId)) return { ok: false, error: this.openError(deploymentId) };
    this.trials.add(deploymentId);
    const mine = this.store ? await this.store.tryTrial(deploymentId, this.replica, TRIAL_TTL_MS).catch(() => true) : true;
    if (!mine) {
      this.trials.delete(deploymentId);
      return { ok: false, error: this.openError(deploymentId) };
    }
    try {
      const result = await attempt();
      // A reload replaced or dropped this circuit meanwhile (useDeployments): the shut-down one takes no verdict.
      if (this.breakers.get(deploymentId) === breaker) await this.judge(breaker, verdictOf(result));
      return result;
    } finally {
      // The trial slot is this circuit's: a replacing one's own trial is not freed by this one ending.
      if (this.breakers.get(deploymentId) === breaker) this.trials.delete(deploymentId);
    }
  }

  private async judge(breaker: Breaker, verdict: Verdict): Promise<void> {
    if (verdict === 'none') return;
    await breaker.fire(verdict).catch((error: unknown) => {
      // A counted fault, or a circuit another request opened meanwhile: both are already in opossum's statistics.
      if (!(error instanceof BackendFault) && (error as { code?: string }).code !== 'EOPENBREAKER') throw error;
    });
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

  /**
   * Every circuit as the dashboard shows it: its state and, while open, why (`errors`: the error rate or a failed
   * trial; `rate_limit`: a backend's 429 with Retry-After), since when and for how long still.
   */
  circuits(): Map<string, { state: BreakerState; cause?: OpenCause; openedAt?: number; remainingMs?: number }> {
    const circuits = new Map<string, { state: BreakerState; cause?: OpenCause; openedAt?: number; remainingMs?: number }>();
    for (const [id, state] of this.states()) {
      if (state !== 'open') {
        circuits.set(id, { state });
        continue;
      }
      const cause = this.openCause.get(id);
      const openedAt = this.openedAt.get(id);
      const remainingMs = this.remainingMs(id);
      circuits.set(id, { state, ...(cause ? { cause } : {}), ...(openedAt !== undefined ? { openedAt } : {}), ...(remainingMs !== undefined ? { remainingMs } : {}) });
    }
    return circuits;
  }

  shutdown(): void {
    for (const breaker of this.breakers.values()) breaker.shutdown();
  }

  /** How long until a circuit a backend's 429 opened turns half-open; undefined when it is not open for that. */
  rateLimitedForMs(deploymentId: string): number | undefined {
    return this.openCause.get(deploymentId) === 'rate_limit' ? this.remainingMs(deploymentId) : undefined;
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
