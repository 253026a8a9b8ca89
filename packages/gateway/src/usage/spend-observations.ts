import type { BudgetCheck, SpendReader, SpendStatus, UsageRecord } from '@dosrouter/shared';
import { toNanoUsd, usageDay, usageMonth } from '@dosrouter/shared';

interface Seen {
  day: string;
  month: string;
  dayNanoUsd: number;
  monthNanoUsd: number;
}

/**
 * What this replica knows of its keys' spend in cluster mode: the cluster-wide figures the last admission returned,
 * plus what its own requests cost since. Two things read it without a round trip: routing, for the soft budget
 * (`auto` routes as `eco` past it), and the fallback limiter while Redis is unreachable, which goes on refusing keys
 * whose budget was spent.
 */
export class SpendObservations implements SpendReader {
  private readonly keys = new Map<string, Seen>();

  /** An admission's answer: the cluster's figures before that request. */
  observe(budget: BudgetCheck, spend: SpendStatus): void {
    this.keys.set(budget.keyId, { day: budget.day, month: budget.month, dayNanoUsd: spend.dayNanoUsd, monthNanoUsd: spend.monthNanoUsd });
  }

  /** A finished request of this replica. */
  add(record: UsageRecord): void {
    if (record.keyId === undefined || record.costUsd === 0) return;
    const seen = this.keys.get(record.keyId);
    if (!seen) return;
    const cost = toNanoUsd(record.costUsd);
    const day = usageDay(record.at);
    const month = usageMonth(record.at);
    if (seen.month !== month) Object.assign(seen, { month, monthNanoUsd: 0 });
    if (seen.day !== day) Object.assign(seen, { day, dayNanoUsd: 0 });
    seen.dayNanoUsd += cost;
    seen.monthNanoUsd += cost;
  }

  spentNanoUsd(keyId: string, period: string): number {
    const seen = this.keys.get(keyId);
    if (!seen) return 0;
    return period === seen.day ? seen.dayNanoUsd : period === seen.month ? seen.monthNanoUsd : 0;
  }
}
