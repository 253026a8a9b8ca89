import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { ConnectionGate, type GateEntry } from './connection-gate.js';

describe('ConnectionGate', () => {
  beforeEach(() => vi.useFakeTimers());
  afterEach(() => vi.useRealTimers());
  const clock = (): number => Date.now();

  it('admits up to its limit at once, then serves waiters first come, first served', async () => {
    const gate = new ConnectionGate(2, clock);
    expect(gate.acquire(1_000)).toEqual({ ok: true, waitedMs: 0 });
    expect(gate.acquire(1_000)).toEqual({ ok: true, waitedMs: 0 });
    const order: string[] = [];
    const first = Promise.resolve(gate.acquire(1_000)).then((entry) => (order.push('first'), entry));
    const second = Promise.resolve(gate.acquire(1_000)).then((entry) => (order.push('second'), entry));
    expect(gate.waiting).toBe(2);
    vi.advanceTimersByTime(300);
    gate.release();
    expect(await first).toEqual({ ok: true, waitedMs: 300 });
    gate.release();
    expect(await second).toEqual({ ok: true, waitedMs: 300 });
    expect(order).toEqual(['first', 'second']);
    expect(gate.inUse).toBe(2);
    gate.release();
    gate.release();
    expect(gate.inUse).toBe(0);
  });

  it('refuses a waiter at its deadline, and a release then skips it', async () => {
    const gate = new ConnectionGate(1, clock);
    gate.acquire(1_000);
    const late = gate.acquire(500) as Promise<GateEntry>;
    const patient = gate.acquire(5_000) as Promise<GateEntry>;
    vi.advanceTimersByTime(500);
    expect(await late).toEqual({ ok: false, reason: 'timeout', waitedMs: 500 });
    expect(gate.waiting).toBe(1);
    gate.release();
    expect(await patient).toEqual({ ok: true, waitedMs: 500 });
    expect(gate.waiting).toBe(0);
    expect(gate.inUse).toBe(1);
  });

  it('frees the place of a waiter whose client left', async () => {
    const gate = new ConnectionGate(1, clock);
    gate.acquire(1_000);
    const controller = new AbortController();
    const leaving = gate.acquire(10_000, controller.signal) as Promise<GateEntry>;
    vi.advanceTimersByTime(40);
    controller.abort();
    expect(await leaving).toEqual({ ok: false, reason: 'aborted', waitedMs: 40 });
    expect(gate.waiting).toBe(0);
    gate.release();
    expect(gate.inUse).toBe(0);
    expect(gate.acquire(0)).toEqual({ ok: true, waitedMs: 0 });
  });

  it('does not wait when the deadline is 0 or the signal already aborted', () => {
    const gate = new ConnectionGate(1, clock);
    gate.acquire(0);
    expect(gate.acquire(0)).toEqual({ ok: false, reason: 'timeout', waitedMs: 0 });
    expect(gate.acquire(1_000, AbortSignal.abort())).toEqual({ ok: false, reason: 'aborted', waitedMs: 0 });
    expect(gate.waiting).toBe(0);
  });

  it('keeps its memory to the queue it holds through many waits', async () => {
    const gate = new ConnectionGate(1, clock);
    gate.acquire(0);
    for (let round = 0; round < 5_000; round += 1) {
      const waiter = gate.acquire(1_000) as Promise<GateEntry>;
      gate.release();
      expect((await waiter).ok).toBe(true);
    }
    expect(gate.waiting).toBe(0);
    expect(gate.inUse).toBe(1);
  });
});
