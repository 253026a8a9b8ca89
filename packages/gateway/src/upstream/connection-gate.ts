/** Why a wait for a connection ended without one. */
export type GateRefusal = 'timeout' | 'aborted';

export type GateEntry = { readonly ok: true; readonly waitedMs: number } | { readonly ok: false; readonly reason: GateRefusal; readonly waitedMs: number };

interface Waiter {
  readonly enqueuedAt: number;
  readonly resolve: (entry: GateEntry) => void;
  timer: NodeJS.Timeout | undefined;
  signal: AbortSignal | undefined;
  onAbort: (() => void) | undefined;
  done: boolean;
}

/**
 * An explicit cap on one backend's concurrent requests (`backends[].maxConnections`), in front of its undici pool
 * so that the pool never queues on its own: a request past the cap waits here, first come first served, for at most
 * its deadline, and the wait is measured. Without a cap there is no gate and nothing waits.
 */
export class ConnectionGate {
  private active = 0;
  /** Waiters in arrival order; `head` is the first not yet served (no O(n) shift per release). */
  private waiters: Waiter[] = [];
  private head = 0;
  /** Waiters that left (deadline, abort) but still sit in the array until `head` passes them. */
  private abandoned = 0;

  constructor(
    readonly limit: number,
    private readonly clock: () => number,
  ) {}

  get inUse(): number {
    return this.active;
  }

  get waiting(): number {
    return this.waiters.length - this.head - this.abandoned;
  }

  /**
   * A connection at once when one is free; else a wait of at most `deadlineMs` (0: no wait) that `abortable` ends
   * (a signal, or a controller whose signal is read only for a wait: an AbortSignal costs microseconds to make).
   */
  acquire(deadlineMs: number, abortable?: AbortSignal | AbortController): GateEntry | Promise<GateEntry> {
    if (this.active < this.limit && this.waiting === 0) {
      this.active += 1;
      return { ok: true, waitedMs: 0 };
    }
    const signal = abortable instanceof AbortController ? abortable.signal : abortable;
    if (signal?.aborted) return { ok: false, reason: 'aborted', waitedMs: 0 };
    if (deadlineMs <= 0) return { ok: false, reason: 'timeout', waitedMs: 0 };
    return new Promise<GateEntry>((resolve) => {
      const waiter: Waiter = { enqueuedAt: this.clock(), resolve, timer: undefined, signal, onAbort: undefined, done: false };
      waiter.timer = setTimeout(() => this.leave(waiter, 'timeout'), deadlineMs);
      if (signal) {
        waiter.onAbort = () => this.leave(waiter, 'aborted');
        signal.addEventListener('abort', waiter.onAbort, { once: true });
      }
      this.waiters.push(waiter);
    });
  }

  /** Gives the connection back: to the first waiter still waiting, if any. */
  release(): void {
    while (this.head < this.waiters.length) {
      const waiter = this.waiters[this.head]!;
      this.head += 1;
      if (waiter.done) {
        this.abandoned -= 1;
        continue;
      }
      this.settle(waiter);
      this.compact();
      waiter.resolve({ ok: true, waitedMs: this.clock() - waiter.enqueuedAt });
      return;
    }
    this.compact();
    this.active -= 1;
  }

  private leave(waiter: Waiter, reason: GateRefusal): void {
    if (waiter.done) return;
    this.settle(waiter);
    this.abandoned += 1;
    waiter.resolve({ ok: false, reason, waitedMs: this.clock() - waiter.enqueuedAt });
  }

  private settle(waiter: Waiter): void {
    waiter.done = true;
    clearTimeout(waiter.timer);
    if (waiter.signal && waiter.onAbort) waiter.signal.removeEventListener('abort', waiter.onAbort);
  }

  /** Drops the served prefix once it is most of the array, so that memory follows the queue's length. */
  private compact(): void {
    if (this.head === this.waiters.length) {
      this.waiters = [];
      this.head = 0;
      this.abandoned = 0;
    } else if (this.head > 1024 && this.head * 2 > this.waiters.length) {
      this.waiters = this.waiters.slice(this.head);
      this.head = 0;
    }
  }
}
