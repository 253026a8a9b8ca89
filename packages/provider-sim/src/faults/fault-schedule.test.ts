import { describe, expect, it } from 'vitest';
import { parseSimulatorOptions, type ResolvedModel } from '../config/parse-simulator-options.js';
import type { RandomSource } from '../generation/seeded-random.js';
import { DEFAULT_SLOW_FIRST_TOKEN_DELAY_MS, FaultSchedule } from './fault-schedule.js';

function resolveModels(): { clean: ResolvedModel; flaky: ResolvedModel; other: ResolvedModel } {
  const { models } = parseSimulatorOptions({
    models: [
      { id: 'clean', retryAfterSeconds: 3 },
      { id: 'flaky', faultRates: { rate_limit: 0.25, server_error: 0.25 } },
      { id: 'other' },
    ],
  });
  const get = (id: string): ResolvedModel => {
    const model = models.get(id);
    if (model === undefined) {
      throw new Error(`missing ${id}`);
    }
    return model;
  };
  return { clean: get('clean'), flaky: get('flaky'), other: get('other') };
}

/** A random source that replays fixed draws, so each test states exactly what the PRNG returns. */
function replaying(draws: number[]): (seed: number) => RandomSource {
  return () => {
    let index = 0;
    return () => draws[index++ % draws.length] ?? 0;
  };
}

describe('FaultSchedule', () => {
  const { clean, flaky, other } = resolveModels();

  it('gives no fault to a model without rates and an empty queue', () => {
    expect(new FaultSchedule(1).next(clean)).toBeUndefined();
  });

  it('hands queued faults out oldest first, count times each', () => {
    const schedule = new FaultSchedule(1);
    schedule.inject({ kind: 'rate_limit', count: 2 });
    schedule.inject({ kind: 'hang' });

    expect([schedule.next(clean), schedule.next(clean), schedule.next(clean), schedule.next(clean)].map((fault) => fault?.kind)).toEqual([
      'rate_limit',
      'rate_limit',
      'hang',
      undefined,
    ]);
  });

  it('skips queued faults for other models', () => {
    const schedule = new FaultSchedule(1);
    schedule.inject({ kind: 'reset', model: 'other' });

    expect(schedule.next(clean)).toBeUndefined();
    expect(schedule.next(other)?.kind).toBe('reset');
  });

  it('resolves retry-after from the fault, then from retryAfterMs, then from the model', () => {
    const schedule = new FaultSchedule(1);
    schedule.inject({ kind: 'rate_limit', retryAfterSeconds: 9 });
    schedule.inject({ kind: 'rate_limit', retryAfterMs: 2500 });
    schedule.inject({ kind: 'rate_limit' });

    expect(schedule.next(clean)).toMatchObject({ retryAfterSeconds: 9, retryAfterMs: undefined });
    expect(schedule.next(clean)).toMatchObject({ retryAfterSeconds: 3, retryAfterMs: 2500 });
    expect(schedule.next(clean)).toMatchObject({ retryAfterSeconds: 3 });
  });

  it('defaults the slow_first_token delay', () => {
    const schedule = new FaultSchedule(1);
    schedule.inject({ kind: 'slow_first_token' });

    expect(schedule.next(clean)?.delayMs).toBe(DEFAULT_SLOW_FIRST_TOKEN_DELAY_MS);
  });

  it('maps one draw per request onto the cumulative fault rates', () => {
    const schedule = new FaultSchedule(1, replaying([0.1, 0.3, 0.6]));

    expect([schedule.next(flaky), schedule.next(flaky), schedule.next(flaky)].map((fault) => fault?.kind)).toEqual([
      'rate_limit',
      'server_error',
      undefined,
    ]);
  });

  it('draws nothing for models without rates, so they do not shift the sequence', () => {
    const schedule = new FaultSchedule(1, replaying([0.1, 0.3]));
    schedule.next(clean);

    expect(schedule.next(flaky)?.kind).toBe('rate_limit');
  });

  it('restarts the draws and empties the queue on reset', () => {
    const schedule = new FaultSchedule(7);
    const before = Array.from({ length: 20 }, () => schedule.next(flaky)?.kind);
    schedule.inject({ kind: 'hang' });

    schedule.reset();

    expect(schedule.pending()).toEqual([]);
    expect(Array.from({ length: 20 }, () => schedule.next(flaky)?.kind)).toEqual(before);
  });

  it('lists the pending faults with their remaining counts', () => {
    const schedule = new FaultSchedule(1);
    schedule.inject({ kind: 'rate_limit', count: 3, model: 'clean' });
    schedule.next(clean);

    expect(schedule.pending()).toEqual([{ kind: 'rate_limit', count: 2, model: 'clean' }]);
  });
});
