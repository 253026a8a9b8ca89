/** What the wheel needs from the runtime; injected so that a test can drive it by hand. */
export interface WheelClock {
  /** Monotonic milliseconds. Default `performance.now()`. */
  now(): number;
  setTimer(callback: () => void, delayMs: number): unknown;
  clearTimer(timer: unknown): void;
}

const RUNTIME_CLOCK: WheelClock = {
  now: () => performance.now(),
  setTimer: (callback, delayMs) => setTimeout(callback, delayMs),
  clearTimer: (timer) => clearTimeout(timer as ReturnType<typeof setTimeout>),
};

/** Default tick: 1 ms, the resolution of Node's own timers, so a wait ends no later than a setTimeout would. */
const DEFAULT_RESOLUTION_MS = 1;

/**
 * One timer for every wait of the simulator. Waits are grouped by the tick they are due on (delays are rounded up to
 * the resolution, so a wait never ends early); a single timer is armed for the earliest tick, and when it fires,
 * every wait due by then runs, in the order it was scheduled. At 10,000 streams this replaces 10,000 timers, abort
 * listeners and promise chains per token interval with one timer and one set entry per stream. With nothing waiting,
 * no timer is armed.
 */
export class TimerWheel {
  /** Tick number → the callbacks due on it, in scheduling order (a Set keeps insertion order and deletes in O(1)). */
  private readonly buckets = new Map<number, Set<() => void>>();
  /** Min-heap of the ticks that have a bucket. */
  private readonly ticks: number[] = [];
  private timer: unknown;
  private armedTick: number | undefined;
  private waiting = 0;

  constructor(
    private readonly clock: WheelClock = RUNTIME_CLOCK,
    private readonly resolutionMs: number = DEFAULT_RESOLUTION_MS,
  ) {}

  /** Callbacks scheduled and neither run nor cancelled yet. */
  get size(): number {
    return this.waiting;
  }

  /** Runs `callback` once `delayMs` has passed; returns the function that cancels it (a no-op once it ran). */
  schedule(delayMs: number, callback: () => void): () => void {
    const tick = Math.ceil((this.clock.now() + delayMs) / this.resolutionMs);
    let bucket = this.buckets.get(tick);
    if (bucket === undefined) {
      bucket = new Set();
      this.buckets.set(tick, bucket);
      this.pushTick(tick);
    }
    bucket.add(callback);
    this.waiting += 1;
    if (this.armedTick === undefined || tick < this.armedTick) {
      this.arm(tick);
    }
    const scheduledBucket = bucket;
    return () => {
      if (scheduledBucket.delete(callback)) {
        this.waiting -= 1;
        if (this.waiting === 0) {
          this.clear();
        }
      }
    };
  }

  private arm(tick: number): void {
    this.disarm();
    this.armedTick = tick;
    this.timer = this.clock.setTimer(() => this.fire(), Math.max(0, tick * this.resolutionMs - this.clock.now()));
  }

  /** Nothing waits any more: drop the emptied buckets and the timer rather than wake up for them. */
  private clear(): void {
    this.disarm();
    this.buckets.clear();
    this.ticks.length = 0;
  }

  private disarm(): void {
    if (this.armedTick !== undefined) {
      this.clock.clearTimer(this.timer);
      this.armedTick = undefined;
      this.timer = undefined;
    }
  }

  private fire(): void {
    this.armedTick = undefined;
    this.timer = undefined;
    const currentTick = Math.floor(this.clock.now() / this.resolutionMs);
    while (this.ticks.length > 0 && this.ticks[0]! <= currentTick) {
      const tick = this.popTick();
      const bucket = this.buckets.get(tick);
      this.buckets.delete(tick);
      if (bucket === undefined) {
        continue;
      }
      // Each callback leaves its bucket before it runs, so that its cancel function is a no-op from then on and a
      // callback that cancels a later one of the same tick takes it out of this loop.
      for (const callback of bucket) {
        bucket.delete(callback);
        this.waiting -= 1;
        callback();
      }
    }
    if (this.ticks.length === 0) {
      return;
    }
    if (this.waiting === 0) {
      this.clear();
      return;
    }
    // A callback may have scheduled (and so armed) an earlier tick than the heap's top; arm() keeps the earliest.
    if (this.armedTick === undefined || this.ticks[0]! < this.armedTick) {
      this.arm(this.ticks[0]!);
    }
  }

  private pushTick(tick: number): void {
    const heap = this.ticks;
    heap.push(tick);
    let index = heap.length - 1;
    while (index > 0) {
      const parent = (index - 1) >> 1;
      if (heap[parent]! <= tick) {
        break;
      }
      heap[index] = heap[parent]!;
      index = parent;
    }
    heap[index] = tick;
  }

  private popTick(): number {
    const heap = this.ticks;
    const top = heap[0]!;
    const last = heap.pop()!;
    if (heap.length > 0) {
      let index = 0;
      for (;;) {
        const left = 2 * index + 1;
        if (left >= heap.length) {
          break;
        }
        const right = left + 1;
        const child = right < heap.length && heap[right]! < heap[left]! ? right : left;
        if (heap[child]! >= last) {
          break;
        }
        heap[index] = heap[child]!;
        index = child;
      }
      heap[index] = last;
    }
    return top;
  }
}
