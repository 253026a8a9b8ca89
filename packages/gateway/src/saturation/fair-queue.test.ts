import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { FairQueue, LocalSlots, type QueueEntry, type SlotPool } from './fair-queue.js';

const settled = (promise: QueueEntry | Promise<QueueEntry>, into: string[], name: string): Promise<QueueEntry> =>
  Promise.resolve(promise).then((entry) => {
    if (entry.ok) into.push(name);
    return entry;
  });

/** Lets the promise callbacks of the entries served so far run. */
const turn = (): Promise<void> => Promise.resolve().then(() => undefined);

describe('FairQueue', () => {
  beforeEach(() => vi.useFakeTimers());
  afterEach(() => vi.useRealTimers());
  let slots: LocalSlots;
  const queue = (capacity: number, maxWaiting = 100, timeoutMs = 10_000) => {
    slots = new LocalSlots(capacity);
    return new FairQueue({ slots, maxWaiting, timeoutMs, clock: () => Date.now() });
  };

  it('lets requests through at once up to its capacity', () => {
    const fair = queue(2);
    expect(fair.enter('a')).toEqual({ ok: true, waitedMs: 0 });
    expect(fair.enter('b')).toEqual({ ok: true, waitedMs: 0 });
    expect(fair.enter('c')).toBeInstanceOf(Promise);
    expect(fair.waiting).toBe(1);
  });

  describe('when one key sends ten times the requests of another', () => {
    it('serves the two keys in turn while both wait, so the quiet key is not starved', async () => {
      const fair = queue(1);
      fair.enter('noisy');
      const served: string[] = [];
      const entries = [
        ...Array.from({ length: 50 }, () => settled(fair.enter('noisy'), served, 'noisy')),
        ...Array.from({ length: 5 }, () => settled(fair.enter('quiet'), served, 'quiet')),
      ];
      for (let slot = 0; slot < 55; slot += 1) {
        fair.leave();
        await turn();
      }
      await Promise.all(entries);
      // The quiet key's five requests came last but were served in the first ten slots, alternating.
      expect(served.slice(0, 10)).toEqual(['noisy', 'quiet', 'noisy', 'quiet', 'noisy', 'quiet', 'noisy', 'quiet', 'noisy', 'quiet']);
      expect(served.filter((name) => name === 'noisy')).toHaveLength(50);
    });

    it('gives a key of weight 3 three turns for each of a weight-1 key', async () => {
      const fair = queue(1);
      fair.enter('x');
      const served: string[] = [];
      const entries = [
        ...Array.from({ length: 12 }, () => settled(fair.enter('heavy', 'normal', 3), served, 'heavy')),
        ...Array.from({ length: 12 }, () => settled(fair.enter('light', 'normal', 1), served, 'light')),
      ];
      for (let slot = 0; slot < 16; slot += 1) {
        fair.leave();
        await turn();
      }
      expect(served.filter((name) => name === 'heavy')).toHaveLength(12);
      expect(served.filter((name) => name === 'light')).toHaveLength(4);
      for (let slot = 0; slot < 8; slot += 1) fair.leave();
      await Promise.all(entries);
    });
  });

  it('serves a high-priority request before normal and low ones that waited longer', async () => {
    const fair = queue(1);
    fair.enter('a');
    const served: string[] = [];
    const entries = [
      settled(fair.enter('a', 'low'), served, 'low'),
      settled(fair.enter('b', 'normal'), served, 'normal'),
      settled(fair.enter('c', 'high'), served, 'high'),
    ];
    for (let slot = 0; slot < 3; slot += 1) {
      fair.leave();
      await turn();
    }
    await Promise.all(entries);
    expect(served).toEqual(['high', 'normal', 'low']);
  });

  it('ends a wait at its deadline, and the slot then goes to the next waiter', async () => {
    const fair = queue(1, 100, 500);
    fair.enter('a');
    const first = fair.enter('b') as Promise<QueueEntry>;
    vi.advanceTimersByTime(300);
    const second = fair.enter('c') as Promise<QueueEntry>;
    vi.advanceTimersByTime(200);
    expect(await first).toEqual({ ok: false, reason: 'timeout', waitedMs: 500 });
    fair.leave();
    expect(await second).toEqual({ ok: true, waitedMs: 200 });
    expect(fair.waiting).toBe(0);
    expect(slots.active).toBe(1);
  });

  it('frees the place of a client that leaves while it waits', async () => {
    const fair = queue(1);
    fair.enter('a');
    const controller = new AbortController();
    const leaving = fair.enter('b', 'normal', 1, controller.signal) as Promise<QueueEntry>;
    const staying = fair.enter('c') as Promise<QueueEntry>;
    vi.advanceTimersByTime(20);
    controller.abort();
    expect(await leaving).toEqual({ ok: false, reason: 'aborted', waitedMs: 20 });
    expect(fair.waiting).toBe(1);
    fair.leave();
    expect((await staying).ok).toBe(true);
  });

  describe('when the queue is full', () => {
    it('refuses the newest request of the key holding the most places, not a quiet key', async () => {
      const fair = queue(1, 4);
      fair.enter('burst');
      const burst = Array.from({ length: 4 }, () => fair.enter('burst') as Promise<QueueEntry>);
      // A quiet key still gets a place: the burst's newest is evicted for it.
      const quiet = fair.enter('quiet') as Promise<QueueEntry>;
      expect(await burst[3]).toMatchObject({ ok: false, reason: 'over_share' });
      // The burst asking for more is refused at once: it holds the most places.
      expect(fair.enter('burst')).toMatchObject({ ok: false, reason: 'over_share' });
      expect(fair.waiting).toBe(4);
      for (let slot = 0; slot < 4; slot += 1) fair.leave();
      expect((await quiet).ok).toBe(true);
      expect((await Promise.all(burst.slice(0, 3))).every((entry) => entry.ok)).toBe(true);
    });
  });

  it('gives fractional weights their share: weight 0.5 against weight 1 is served once for every two', async () => {
    const fair = queue(1);
    fair.enter('x');
    const served: string[] = [];
    const entries = [
      ...Array.from({ length: 10 }, () => settled(fair.enter('half', 'normal', 0.5), served, 'half')),
      ...Array.from({ length: 10 }, () => settled(fair.enter('whole', 'normal', 1), served, 'whole')),
    ];
    for (let slot = 0; slot < 12; slot += 1) {
      fair.leave();
      await turn();
    }
    expect(served.filter((name) => name === 'whole')).toHaveLength(8);
    expect(served.filter((name) => name === 'half')).toHaveLength(4);
    for (let slot = 0; slot < 8; slot += 1) fair.leave();
    await Promise.all(entries);
  });

  it('ends a wait at the deadline given to enter when it is shorter than the queue’s', async () => {
    const fair = queue(1, 100, 10_000);
    fair.enter('a');
    const short = fair.enter('b', 'normal', 1, undefined, 300) as Promise<QueueEntry>;
    vi.advanceTimersByTime(300);
    expect(await short).toEqual({ ok: false, reason: 'timeout', waitedMs: 300 });
  });

  describe('with a pool that other processes share', () => {
    /** A pool whose free slots the test sets, answering after a microtask as a Redis call would (later). */
    class SharedSlots implements SlotPool {
      readonly retryMs = [5, 40] as const;
      free = 0;
      asked = 0;
      take(): Promise<boolean> {
        this.asked += 1;
        const taken = this.free > 0;
        if (taken) this.free -= 1;
        return Promise.resolve(taken);
      }
      give(): void {
        this.free += 1;
      }
      pass(): Promise<boolean> {
        return Promise.resolve(true);
      }
    }

    it('asks again with backoff while some wait, and lets the next waiter in when another process frees a slot', async () => {
      const slots = new SharedSlots();
      const fair = new FairQueue({ slots, maxWaiting: 10, timeoutMs: 10_000, clock: () => Date.now() });
      const first = fair.enter('a') as Promise<QueueEntry>;
      await vi.advanceTimersByTimeAsync(0);
      expect(fair.waiting).toBe(1);
      // Refused: asked again after 5, 10, 20, 40, 40… ms, one question at a time.
      await vi.advanceTimersByTimeAsync(5 + 10 + 20 + 40);
      const askedBefore = slots.asked;
      expect(askedBefore).toBeGreaterThanOrEqual(4);
      expect(askedBefore).toBeLessThanOrEqual(6);
      slots.free = 1;
      await vi.advanceTimersByTimeAsync(40);
      expect(await first).toMatchObject({ ok: true });
      expect(fair.waiting).toBe(0);
      // Nobody waits: no more questions.
      const asked = slots.asked;
      await vi.advanceTimersByTimeAsync(1_000);
      expect(slots.asked).toBe(asked);
    });

    it('gives a slot back when the client left while its take was on the way', async () => {
      const slots = new SharedSlots();
      slots.free = 1;
      const fair = new FairQueue({ slots, maxWaiting: 10, timeoutMs: 10_000, clock: () => Date.now() });
      const controller = new AbortController();
      const entry = fair.enter('a', 'normal', 1, controller.signal) as Promise<QueueEntry>;
      controller.abort();
      expect(await entry).toMatchObject({ ok: false, reason: 'aborted' });
      expect(slots.free).toBe(1);
    });
  });
});

describe('FairQueue, a waiter entering again at the front', () => {
  it('is served before those who queued after its first entry', async () => {
    const slots = new LocalSlots(1);
    const fair = new FairQueue({ slots, maxWaiting: 10, timeoutMs: 10_000, clock: () => Date.now() });
    fair.enter('key');
    const served: string[] = [];
    const later = settled(fair.enter('key'), served, 'later');
    const again = settled(fair.enter('key', 'normal', 1, undefined, 10_000, true), served, 'again');
    fair.leave();
    await turn();
    fair.leave();
    await Promise.all([later, again]);
    expect(served).toEqual(['again', 'later']);
  });
});
