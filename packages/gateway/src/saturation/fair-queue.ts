/** Priority classes, most urgent first: a class is served only when every class before it is empty. */
export const PRIORITIES = ['high', 'normal', 'low'] as const;
export type Priority = (typeof PRIORITIES)[number];

/** Why a request left the queue without a slot. */
export type QueueRefusal =
  /** The wait reached its deadline. */
  | 'timeout'
  /** The queue was full and this request's key held more than its share of it. */
  | 'over_share'
  /** The client went away. */
  | 'aborted';

export type QueueEntry = { readonly ok: true; readonly waitedMs: number } | { readonly ok: false; readonly reason: QueueRefusal; readonly waitedMs: number };

export interface FairQueueOptions {
  /** Requests served at once; past it they wait. */
  readonly capacity: number;
  /** Requests that may wait at once; past it the key with the most waiting loses its newest. */
  readonly maxWaiting: number;
  /** The longest a request waits. */
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
 * A bounded, fair, prioritised wait for one of `capacity` slots. Within a priority class, keys (flows) are served
 * by deficit round robin: each turn a flow earns its weight in credit and spends one per request served, so a key
 * sending ten times the requests of another gets served no more often than its weight allows while both wait. A
 * full queue refuses the newest request of the key with the most waiting (a burst evicts itself, not a quiet
 * key). Waits end at their deadline, or when the client leaves, which frees the place at once.
 */
export class FairQueue {
  private inUse = 0;
  private waitingCount = 0;
  /** Per priority class: flows with waiters, in round-robin order. */
  private readonly rounds: Flow[][] = PRIORITIES.map(() => []);
  private readonly flows = new Map<string, Flow>();

  constructor(private readonly options: FairQueueOptions) {}

  get active(): number {
    return this.inUse;
  }

  get waiting(): number {
    return this.waitingCount;
  }

  /** A slot at once when one is free and nobody waits; else a place in the queue. */
  enter(flowId: string, priority: Priority = 'normal', weight = 1, signal?: AbortSignal): QueueEntry | Promise<QueueEntry> {
    if (this.inUse < this.options.capacity && this.waitingCount === 0) {
      this.inUse += 1;
      return { ok: true, waitedMs: 0 };
    }
    if (signal?.aborted) return { ok: false, reason: 'aborted', waitedMs: 0 };
    const flow = this.flowFor(flowId, PRIORITIES.indexOf(priority), Math.max(1, weight));
    if (this.waitingCount >= this.options.maxWaiting) {
      const largest = this.largestFlow();
      // The newcomer's key already holds the most places: it is the one over its share.
      if (!largest || largest.waiters.length <= flow.waiters.length) {
        this.forgetIfIdle(flow);
        return { ok: false, reason: 'over_share', waitedMs: 0 };
      }
      this.remove(largest.waiters[largest.waiters.length - 1]!, 'over_share');
    }
    return new Promise<QueueEntry>((resolve) => {
      const waiter: Waiter = { flow, enqueuedAt: this.options.clock(), resolve, timer: undefined, signal, onAbort: undefined };
      waiter.timer = setTimeout(() => this.remove(waiter, 'timeout'), this.options.timeoutMs);
      if (signal) {
        waiter.onAbort = () => this.remove(waiter, 'aborted');
        signal.addEventListener('abort', waiter.onAbort, { once: true });
      }
      flow.waiters.push(waiter);
      this.waitingCount += 1;
      if (!flow.active) {
        flow.active = true;
        this.rounds[flow.priority]!.push(flow);
      }
    });
  }

  /** Gives a slot back: to the next waiter by priority, then deficit round robin. */
  leave(): void {
    const next = this.nextWaiter();
    if (!next) {
      this.inUse -= 1;
      return;
    }
    this.detach(next);
    next.resolve({ ok: true, waitedMs: this.options.clock() - next.enqueuedAt });
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
