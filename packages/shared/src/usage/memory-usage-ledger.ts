import { toNanoUsd, usageDay, usageMonth, type UsageRecord } from './usage-record.js';
import { usageIncrements, type UsageDay } from './usage-totals.js';
import type { UsageLedger } from './usage-ledger.js';
import type { SpendReader } from '../state/limits.js';

/**
 * Embedded mode: records are aggregated as they are appended, in this process; the totals and the spend live as
 * long as it does. Days older than `retentionDays` are dropped.
 */
export class MemoryUsageLedger implements UsageLedger, SpendReader {
  private readonly days = new Map<string, Map<string, number>>();
  /** `<keyId>\t<period>` → nano-USD spent. */
  private readonly spend = new Map<string, number>();
  private currentMonth = '';

  constructor(private readonly retentionDays = 400) {}

  async append(records: readonly UsageRecord[]): Promise<void> {
    for (const record of records) {
      const day = usageDay(record.at);
      let counters = this.days.get(day);
      if (!counters) {
        counters = new Map();
        this.days.set(day, counters);
        this.forgetOldDays(record.at);
      }
      for (const [name, amount] of usageIncrements(record)) counters.set(name, (counters.get(name) ?? 0) + amount);
      const cost = toNanoUsd(record.costUsd);
      if (record.keyId === undefined || cost === 0) continue;
      const month = usageMonth(record.at);
      if (month !== this.currentMonth) {
        // A new month: last month's spend (and its days') no longer counts against any budget.
        this.spend.clear();
        this.currentMonth = month;
      }
      for (const period of [day, month]) {
        const id = `${record.keyId}\t${period}`;
        this.spend.set(id, (this.spend.get(id) ?? 0) + cost);
      }
    }
  }

  async readDays(days: readonly string[]): Promise<UsageDay[]> {
    return days.flatMap((day) => {
      const counters = this.days.get(day);
      return counters ? [{ day, counters: Object.fromEntries(counters) }] : [];
    });
  }

  async backlog(): Promise<number> {
    return 0;
  }

  spentNanoUsd(keyId: string, period: string): number {
    return this.spend.get(`${keyId}\t${period}`) ?? 0;
  }

  private forgetOldDays(now: number): void {
    const oldest = usageDay(now - this.retentionDays * 86_400_000);
    for (const day of this.days.keys()) if (day < oldest) this.days.delete(day);
  }
}
