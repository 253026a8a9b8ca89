import { GatewayError, type AdmissionResult, type GatewayConfig, type Limiter, type LimitScope } from '@dosrouter/shared';
import type { GatewayMetrics } from '../telemetry/metrics.js';
import { FairQueue, type QueueEntry, type SlotPool } from './fair-queue.js';
import type { QueuePlace } from './queue-place.js';
import { retryAfterSecondsOf } from './saturation-slot.js';

/** How one request waits for a slot of its key: its place (priority), the client leaving, and the time it has left. */
export interface KeyWait {
  readonly place: QueuePlace;
  readonly signal: AbortSignal;
  /** What is left of the request's queue deadline (`saturation.queueTimeoutMs`, shared with the other queues). */
  readonly timeoutMs: number;
}

/** An admission's answer and how long the request waited for its key beforehand (0: not at all). */
export interface KeyAdmission {
  readonly result: AdmissionResult;
  readonly waitedMs: number;
}

/**
 * What this replica knows of one key's concurrency slots. The slots themselves are the admission's leases (the
 * admitRequest script, cluster-wide); this pool only says when a waiter should try admission again: when a request
 * of the key ends here (`pass`), or when the limiter reports room (`take`: a read, polled while some wait in cluster
 * mode, since slots freed on other replicas pass by no one here). Waiters already let through and still waiting for
 * their admission's answer (`trying`) count as taken, so one free slot lets one waiter through.
 */
class KeySlots implements SlotPool {
  trying = 0;

  constructor(
    private readonly limiter: Limiter,
    public scope: LimitScope,
    readonly retryMs: readonly [number, number] | undefined,
  ) {}

  take(): boolean | Promise<boolean> {
    const room = this.limiter.concurrencyRoom(this.scope);
    if (typeof room === 'number') return room > this.trying;
    return room.then(
      (free) => free > this.trying,
      () => false,
    );
  }

  /** A request of the key ended and nobody waits here: nothing to hand on. */
  give(): void {}

  /** A request of the key ended here and some wait: its slot is free cluster-wide, so the next waiter tries. */
  pass(): boolean {
    return true;
  }
}

interface KeyQueue {
  readonly queue: FairQueue;
  readonly slots: KeySlots;
  /** Requests inside `admit` for this key: the queue is forgotten when the last leaves with nobody waiting. */
  users: number;
}

/**
 * Per-key concurrency (`limits.perKey.concurrency`, a key's own `limits.concurrency`): past it a request waits for
 * a slot of its own key, in a bounded queue of that key on this replica (`saturation.maxWaiting` places), by
 * priority class then arrival, until its deadline (what is left of `saturation.queueTimeoutMs`), then gets 429
 * `key_concurrency_exceeded` with Retry-After. The slots are the admission's leases, counted cluster-wide as
 * before; this only decides when a waiter asks admission again: when a request of its key ends on this replica (at
 * once), or, in cluster mode, when a poll (5 ms doubling to 100 ms while the answer is no) sees a slot freed on
 * another replica. Keys without a concurrency limit never reach this class; a key with one and nobody waiting costs
 * a map lookup.
 */
export class KeyConcurrency {
  private readonly queues = new Map<string, KeyQueue>();
  private readonly retryAfterSeconds: number;

  constructor(
    private readonly limiter: Limiter,
    private readonly config: GatewayConfig['saturation'],
    private readonly metrics: GatewayMetrics,
    private readonly clock: () => number,
    /** Cluster mode: how often waiters re-read the key's room, first and most (ms); absent: only local releases wake them. */
    private readonly retryMs?: readonly [number, number],
  ) {
    this.retryAfterSeconds = retryAfterSecondsOf(config.queueTimeoutMs);
    metrics.observeKeySaturation(() => {
      let waiting = 0;
      for (const { queue } of this.queues.values()) waiting += queue.waiting;
      return waiting;
    });
  }

  /**
   * Runs `admit` for a request of `scope` (a key with a concurrency limit), waiting its turn while the key is at its
   * limit. A newcomer tries at once unless others of its key wait or are being let through here (then it queues
   * behind them). Returns the first answer that is not a refusal for the key's concurrency (admitted, or refused
   * for another limit), undefined when the client left, or throws 429 `key_concurrency_exceeded` at the deadline or
   * when the key's queue is full.
   */
  async admit(scope: LimitScope, wait: KeyWait, admit: () => Promise<AdmissionResult>): Promise<KeyAdmission | undefined> {
    const startedAt = this.clock();
    const existing = this.queues.get(scope.id);
    if (!existing || (existing.queue.waiting === 0 && existing.slots.trying === 0)) {
      const result = await admit();
      if (!refusedForKeyConcurrency(result)) return { result, waitedMs: 0 };
    }
    const keyQueue = this.queueFor(scope);
    keyQueue.users += 1;
    try {
      return await this.waitTurns(keyQueue, scope, wait, startedAt, admit);
    } finally {
      keyQueue.users -= 1;
      if (keyQueue.users === 0 && keyQueue.queue.waiting === 0 && keyQueue.slots.trying === 0) this.queues.delete(scope.id);
    }
  }

  /** A request of this key that held one of its slots ended on this replica: the next waiter here tries. */
  released(scopeId: string): void {
    this.queues.get(scopeId)?.queue.leave();
  }

  private async waitTurns(keyQueue: KeyQueue, scope: LimitScope, wait: KeyWait, startedAt: number, admit: () => Promise<AdmissionResult>): Promise<KeyAdmission | undefined> {
    const { queue, slots } = keyQueue;
    const { place, signal } = wait;
    // A waiter let through whose slot another replica took meanwhile waits again at the head of its class.
    for (let again = false; ; again = true) {
      const waitedMs = this.clock() - startedAt;
      const left = wait.timeoutMs - waitedMs;
      let entry: QueueEntry;
      if (signal.aborted) entry = { ok: false, reason: 'aborted', waitedMs };
      else if (left <= 0) entry = { ok: false, reason: 'timeout', waitedMs };
      else if (!again && queue.waiting >= this.config.maxWaiting) entry = { ok: false, reason: 'over_share', waitedMs };
      else entry = await queue.enter(scope.id, place.priority, 1, signal, left, again);
      if (!entry.ok) {
        const totalMs = this.clock() - startedAt;
        this.metrics.recordQueueWait(entry.reason, place.priority, totalMs, 'key');
        if (entry.reason === 'aborted') return undefined;
        throw this.overConcurrency(scope, entry.reason === 'timeout' ? totalMs : undefined);
      }
      slots.trying += 1;
      let result: AdmissionResult;
      try {
        result = await admit();
      } catch (error) {
        // The turn is unused: the room it found goes to the next waiter.
        queue.leave();
        throw error;
      } finally {
        slots.trying -= 1;
      }
      if (!refusedForKeyConcurrency(result)) {
        const totalMs = this.clock() - startedAt;
        this.metrics.recordQueueWait('admitted', place.priority, totalMs, 'key');
        // Refused by another limit: the room is still there, for the next waiter.
        if (!result.admitted) queue.leave();
        return { result, waitedMs: totalMs };
      }
    }
  }

  private queueFor(scope: LimitScope): KeyQueue {
    let keyQueue = this.queues.get(scope.id);
    if (!keyQueue) {
      const slots = new KeySlots(this.limiter, scope, this.retryMs);
      keyQueue = { slots, queue: new FairQueue({ slots, maxWaiting: this.config.maxWaiting, timeoutMs: this.config.queueTimeoutMs, clock: this.clock }), users: 0 };
      this.queues.set(scope.id, keyQueue);
    }
    // The key's limit as the latest request saw it (an admin may change it while some wait).
    keyQueue.slots.scope = scope;
    return keyQueue;
  }

  private overConcurrency(scope: LimitScope, waitedMs: number | undefined): GatewayError {
    const waited = waitedMs === undefined ? 'and its queue on this gateway is full' : `and none finished within ${Math.round(waitedMs)} ms`;
    return new GatewayError(`Your key is over its concurrency: ${scope.limits.concurrency ?? 0} requests in flight already, ${waited}; retry shortly.`, {
      status: 429,
      code: 'key_concurrency_exceeded',
      type: 'requests',
      retryable: true,
      retryAfterSeconds: this.retryAfterSeconds,
    });
  }
}

/** Refused because the key holds as many requests as its concurrency allows (not its rate, tokens or budget). */
export function refusedForKeyConcurrency(result: AdmissionResult): boolean {
  return !result.admitted && result.refusedBy === 'key' && result.limit === 'concurrency';
}
