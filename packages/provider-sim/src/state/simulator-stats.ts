import type { FaultKind } from '../faults/fault-kinds.js';
import type { SimulatorStats } from '../types.js';

/**
 * The live counters behind Simulator.stats, all but the usage totals (the UsageLedger keeps those, next to its per-id
 * sums); callers only ever see snapshots.
 */
export class StatsCounter {
  private requests = 0;
  private completed = 0;
  private aborted = 0;
  private faults: Record<string, number> = {};
  /** Null prototype: keyed by whatever `model` a client sent, `toString` and `__proto__` included. */
  private byModel = countsByName();
  private byHttpVersion = countsByName();

  countRequest(httpVersion: string): void {
    this.requests += 1;
    this.byHttpVersion[httpVersion] = (this.byHttpVersion[httpVersion] ?? 0) + 1;
  }

  countModel(model: string): void {
    this.byModel[model] = (this.byModel[model] ?? 0) + 1;
  }

  countCompleted(): void {
    this.completed += 1;
  }

  countAborted(): void {
    this.aborted += 1;
  }

  /** 'outage' counts the requests an outage answered, next to the per-request faults. */
  countFault(kind: FaultKind | 'outage'): void {
    this.faults[kind] = (this.faults[kind] ?? 0) + 1;
  }

  snapshot(): Omit<SimulatorStats, 'usage'> {
    return {
      requests: this.requests,
      completed: this.completed,
      aborted: this.aborted,
      faults: { ...this.faults },
      byModel: { ...this.byModel },
      byHttpVersion: { ...this.byHttpVersion },
    };
  }

  reset(): void {
    this.requests = 0;
    this.completed = 0;
    this.aborted = 0;
    this.faults = {};
    this.byModel = countsByName();
    this.byHttpVersion = countsByName();
  }
}

function countsByName(): Record<string, number> {
  return Object.create(null) as Record<string, number>;
}
