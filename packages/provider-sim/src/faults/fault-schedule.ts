import type { ResolvedModel } from '../config/parse-simulator-options.js';
import { createSeededRandom, type RandomSource } from '../generation/seeded-random.js';
import type { FaultInjection } from '../types.js';
import type { FaultKind } from './fault-kinds.js';

/** slow_first_token adds this much when the injection gives no delayMs. */
export const DEFAULT_SLOW_FIRST_TOKEN_DELAY_MS = 5_000;

/** The fault one request gets, with its parameters resolved. */
export interface ActiveFault {
  kind: FaultKind;
  retryAfterSeconds: number;
  retryAfterMs: number | undefined;
  delayMs: number;
  /** stream_cut, stream_stall, malformed_chunk: the token events before the fault acts (undefined: the kind's default). */
  afterTokens: number | undefined;
}

interface QueuedFault {
  injection: FaultInjection;
  remaining: number;
}

/**
 * Decides each request's fault: queued injections first (oldest first, for their model or any), otherwise one draw
 * from the seeded PRNG against the model's fault rates. A model without rates consumes no draw, so adding traffic to
 * a clean model does not shift the faults another model sees.
 */
export class FaultSchedule {
  private queue: QueuedFault[] = [];
  private random: RandomSource;

  constructor(
    private readonly seed: number,
    private readonly createRandom: (seed: number) => RandomSource = createSeededRandom,
  ) {
    this.random = createRandom(seed);
  }

  inject(injection: FaultInjection): void {
    this.queue.push({ injection, remaining: injection.count ?? 1 });
  }

  clear(): void {
    this.queue = [];
  }

  /** Clears the queue and restarts the PRNG, so a run after reset() draws the same faults as the first run. */
  reset(): void {
    this.clear();
    this.random = this.createRandom(this.seed);
  }

  pending(): FaultInjection[] {
    return this.queue.map(({ injection, remaining }) => ({ ...injection, count: remaining }));
  }

  next(model: ResolvedModel): ActiveFault | undefined {
    const queuedIndex = this.queue.findIndex(({ injection }) => injection.model === undefined || injection.model === model.id);
    const queued = this.queue[queuedIndex];
    if (queued !== undefined) {
      queued.remaining -= 1;
      if (queued.remaining <= 0) {
        this.queue.splice(queuedIndex, 1);
      }
      return resolveFault(queued.injection, model);
    }
    const kind = this.drawKind(model);
    return kind === undefined ? undefined : resolveFault({ kind }, model);
  }

  private drawKind(model: ResolvedModel): FaultKind | undefined {
    if (model.faultRates.length === 0) {
      return undefined;
    }
    const draw = this.random();
    let cumulative = 0;
    for (const { kind, rate } of model.faultRates) {
      cumulative += rate;
      if (draw < cumulative) {
        return kind;
      }
    }
    return undefined;
  }
}

function resolveFault(injection: FaultInjection, model: ResolvedModel): ActiveFault {
  const retryAfterSeconds =
    injection.retryAfterSeconds ??
    (injection.retryAfterMs !== undefined ? Math.ceil(injection.retryAfterMs / 1000) : model.retryAfterSeconds);
  return {
    kind: injection.kind,
    retryAfterSeconds,
    retryAfterMs: injection.retryAfterMs,
    delayMs: injection.delayMs ?? DEFAULT_SLOW_FIRST_TOKEN_DELAY_MS,
    afterTokens: injection.afterTokens,
  };
}
