import { QUEUE_PRIORITIES, type QueuePriority } from '@dosrouter/shared';

/** Priority classes, most urgent first: a class is served only when every class before it is empty. */
export const PRIORITIES = QUEUE_PRIORITIES;
export type Priority = QueuePriority;

/** Why a request left the queue without a slot. */
export type QueueRefusal =
  /** The wait reached its deadline. */
  | 'timeout'
  /** The queue was full and this request's key held more than its share of it. */
  | 'over_share'
  /** The client went away. */
  | 'aborted';

export type QueueEntry = { readonly ok: true; readonly waitedMs: number } | { readonly ok: false; readonly reason: QueueRefusal; readonly waitedMs: number };

/**
 * Where a queue's slots come from. A local pool (a count in this process) answers at once; a cluster-wide pool
 * (Redis) after one round trip. `waiting`: how many wait in this queue, so a cluster-wide pool can share its slots
 * among the replicas that have waiters.
 */
export interface SlotPool {
  /** Takes a free slot, for a newcomer or the head of the queue; false when none is free (for this replica). */
  take(waiting: number): boolean | Promise<boolean>;
  /** A slot is over and nobody here waits for it. */
  give(waiting: number): void;
  /** A slot is over and some wait here: true when it passes to one of them, false when it went back to the pool. */
  pass(waiting: number): boolean | Promise<boolean>;
  /**
   * Slots that other processes free do not come through `leave`: after a refused `take` the queue asks again this
   * many ms later, doubling up to the second figure. Absent: a local pool, whose slots free only through `leave`.
   */
  readonly retryMs?: readonly [first: number, most: number];
}

/** `capacity` slots counted in this process. */
export class LocalSlots implements SlotPool {
  private inUse = 0;

  constructor(private capacity: number) {}

  get active(): number {
    return this.inUse;
  }

  /** A new limit (a config reload): slots held past a lower one stay held, and no new one is given until under it. */
  resize(capacity: number): void {
    this.capacity = capacity;
  }

  take(): boolean {
    if (this.inUse >= this.capacity) return false;
    this.inUse += 1;
    return true;
  }

  give(): void {
    this.inUse -= 1;
  }

  pass(): boolean {
    return true;
  }
}

export interface FairQueueOptions {
  readonly slots: SlotPool;
  /** Requests that may wait at once; past it the key with the most waiting loses its newest. */
  readonly maxWaiting: number;
  /** The longest a request waits, unless `enter` is given a shorter deadline. */
  readonly timeoutMs: number;
  readonly clock: () => number;
}

interface Waiter {
  readonly flow: Flow;
  readonly enqueuedAt: number;
  readonly resolve: (entry: QueueEntry) => void;
  timer: NodeJS.Timeout | undefined;
  signal: AbortSignal | undefined;
  onAbort: (() => void) | undefined;
}

/** One key's waiters within one priority class, with its deficit-round-robin credit. */
interface Flow {
  readonly id: string;
  readonly priority: number;
  readonly weight: number;
  readonly waiters: Waiter[];
  deficit: number;
  active: boolean;
}

/**
 * A bounded, fair, prioritised wait for a slot of a pool. Within a priority class, keys (flows) are served by
 * deficit round robin: each turn a flow earns its weight in credit and spends one per request served, so while both
 * wait a key of weight 3 is served three times for each turn of a key of weight 1, however many requests either
 * sends. A full queue refuses the newest request of the key with the most waiting (a burst evicts itself, not a
 * quiet key). Waits end at their deadline, or when the client leaves, which frees the place at once.
 */
export class FairQueue {
  private waitingCount = 0;
  /** Per priority class: flows with waiters, in round-robin order. */
  private readonly rounds: Flow[][] = PRIORITIES.map(() => []);
  private readonly flows = new Map<string, Flow>();
  private retryTimer: NodeJS.Timeout | undefined;
  private retryDelayMs = 0;
  private asking = false;

  constructor(private readonly options: FairQueueOptions) {}

  get waiting(): number {
    return this.waitingCount;
  }

  /**
   * A slot at once when one is free and nobody waits; else a place in the queue, for at most `timeoutMs` from now.
   * `weight`: the key's fair share (any positive number); `signal`: the client left; `front`: a waiter that was let
   * through and must wait again (its slot went elsewhere) takes the head of its flow, not the back.
   */
  enter(flowId: string, priority: Priority = 'normal', weight = 1, signal?: AbortSignal, timeoutMs = this.options.timeoutMs, front = false): QueueEntry | Promise<QueueEntry> {
    const enteredAt = this.options.clock();
    if (this.waitingCount === 0) {
      const taken = this.options.slots.take(0);
      if (taken === true) return { ok: true, waitedMs: 0 };
      if (taken !== false) {
        return taken.then((ok) => {
          if (!ok) return this.wait(flowId, priority, weight, signal, enteredAt, timeoutMs, front);
          if (!signal?.aborted) return { ok: true, waitedMs: this.options.clock() - enteredAt };
          this.options.slots.give(this.waitingCount);
          return { ok: false, reason: 'aborted', waitedMs: this.options.clock() - enteredAt };
        });
      }
    }
    return this.wait(flowId, priority, weight, signal, enteredAt, timeoutMs, front);
  }

  /**
   * The pool's limit was raised (a config reload): the slots it has room for now go to waiters at once, rather than
   * each waiting for a slot to be given back. A pool other processes share is asked again on its own (`askAgain`).
   */
  refill(): void {
    if (this.options.slots.retryMs) return;
    for (let left = this.waitingCount; left > 0 && this.waitingCount > 0 && this.options.slots.take(this.waitingCount) === true; left -= 1) this.grant();
  }

  /** Gives a slot back: to the next waiter by priority, then deficit round robin, when the pool lets it pass. */
  leave(): void {
    if (this.waitingCount === 0) {
      this.options.slots.give(0);
      return;
    }
    const passed = this.options.slots.pass(this.waitingCount);
    if (passed === true) this.grant();
    else if (passed === false) this.askAgain();
    else void passed.then((ok) => (ok ? this.grant() : this.askAgain()), () => this.askAgain());
  }

  private wait(
    flowId: string,
    priority: Priority,
    weight: number,
    signal: AbortSignal | undefined,
    enteredAt: number,
    timeoutMs: number,
    front: boolean,
  ): QueueEntry | Promise<QueueEntry> {
    const waitedMs = this.options.clock() - enteredAt;
    if (signal?.aborted) return { ok: false, reason: 'aborted', waitedMs };
    const flow = this.flowFor(flowId, PRIORITIES.indexOf(priority), weight > 0 && Number.isFinite(weight) ? weight : 1);
    if (this.waitingCount >= this.options.maxWaiting) {
      const largest = this.largestFlow();
      // The newcomer's key already holds the most places: it is the one over its share.
      if (!largest || largest.waiters.length <= flow.waiters.length) {
        this.forgetIfIdle(flow);
        return { ok: false, reason: 'over_share', waitedMs };
      }
      this.remove(largest.waiters[largest.waiters.length - 1]!, 'over_share');
    }
    const entry = new Promise<QueueEntry>((resolve) => {
      const waiter: Waiter = { flow, enqueuedAt: enteredAt, resolve, timer: undefined, signal, onAbort: undefined };
      waiter.timer = setTimeout(() => this.remove(waiter, 'timeout'), Math.max(0, Math.ceil(timeoutMs - waitedMs)));
      if (signal) {
        waiter.onAbort = () => this.remove(waiter, 'aborted');
        signal.addEventListener('abort', waiter.onAbort, { once: true });
      }
      if (front) flow.waiters.unshift(waiter);
      else flow.waiters.push(waiter);
      this.waitingCount += 1;
      if (!flow.active) {
        flow.active = true;
        this.rounds[flow.priority]!.push(flow);
      }
    });
    this.askAgain();
    return entry;
  }

  /** The slot this queue holds goes to its next waiter; back to the pool if every waiter has left meanwhile. */
  private grant(): void {
    const next = this.nextWaiter();
    if (!next) {
      this.options.slots.give(0);
      return;
    }
    this.detach(next);
    next.resolve({ ok: true, waitedMs: this.options.clock() - next.enqueuedAt });
  }

  /**
   * A pool that other processes share frees slots this queue does not see: while some wait, ask it again after a
   * delay that doubles while it says no. One question at a time per queue, whatever the number of waiters.
   */
  private askAgain(): void {
    const retryMs = this.options.slots.retryMs;
    if (!retryMs || this.asking || this.retryTimer || this.waitingCount === 0) return;
    this.retryDelayMs = this.retryDelayMs === 0 ? retryMs[0] : Math.min(retryMs[1], this.retryDelayMs * 2);
    this.retryTimer = setTimeout(() => {
      this.retryTimer = undefined;
      if (this.waitingCount === 0) {
        this.retryDelayMs = 0;
        return;
      }
      this.asking = true;
      void Promise.resolve(this.options.slots.take(this.waitingCount))
        .catch(() => false)
        .then((ok) => {
          this.asking = false;
          if (ok) {
            this.retryDelayMs = 0;
            this.grant();
          }
          this.askAgain();
        });
    }, this.retryDelayMs);
    this.retryTimer.unref();
  }

  private nextWaiter(): Waiter | undefined {
    for (const round of this.rounds) {
      while (round.length > 0) {
        const flow = round[0]!;
        if (flow.deficit < 1) {
          // Its turn comes round: it earns its weight in credit and goes to the back.
          flow.deficit += flow.weight;
          round.push(round.shift()!);
          if (round[0] !== flow) continue;
          // Alone in its class: served whatever its weight, without running into debt.
          flow.deficit = Math.max(flow.deficit, 1);
        }
        flow.deficit -= 1;
        return flow.waiters[0];
      }
    }
    return undefined;
  }

  private remove(waiter: Waiter, reason: QueueRefusal): void {
    if (!this.detach(waiter)) return;
    waiter.resolve({ ok: false, reason, waitedMs: this.options.clock() - waiter.enqueuedAt });
  }

  /** Takes a waiter out of its flow; false when it had already left. */
  private detach(waiter: Waiter): boolean {
    const { flow } = waiter;
    const index = flow.waiters.indexOf(waiter);
    if (index === -1) return false;
    flow.waiters.splice(index, 1);
    this.waitingCount -= 1;
    clearTimeout(waiter.timer);
    if (waiter.signal && waiter.onAbort) waiter.signal.removeEventListener('abort', waiter.onAbort);
    if (flow.waiters.length === 0) {
      const round = this.rounds[flow.priority]!;
      round.splice(round.indexOf(flow), 1);
      flow.active = false;
      // An idle flow keeps no credit (deficit round robin): a key cannot save up turns while it sends nothing.
      flow.deficit = 0;
      this.forgetIfIdle(flow);
    }
    return true;
  }

  private flowFor(id: string, priority: number, weight: number): Flow {
    const key = `${priority}\u0000${id}`;
    let flow = this.flows.get(key);
    if (!flow) {
      flow = { id, priority, weight, waiters: [], deficit: 0, active: false };
      this.flows.set(key, flow);
    }
    return flow;
  }

  private forgetIfIdle(flow: Flow): void {
    if (flow.waiters.length === 0) this.flows.delete(`${flow.priority}\u0000${flow.id}`);
  }

  private largestFlow(): Flow | undefined {
    let largest: Flow | undefined;
    for (const flow of this.flows.values()) if (!largest || flow.waiters.length > largest.waiters.length) largest = flow;
    return largest;
  }
}
