import { toNanoUsd, usageDay, usageMonth, type UsageRecord } from './usage-record.js';
import { usageIncrements, usageKeyOf, type UsageDay } from './usage-totals.js';
import type { UsageLedger } from './usage-ledger.js';
import type { SpendReader } from '../state/limits.js';

/** A ledger's whole state: daily tables and the current month's spend by `<keyId>\t<period>`. */
export interface UsageSnapshot {
  readonly days: UsageDay[];
  readonly month: string;
  readonly spend: Record<string, number>;
}

/**
 * Embedded mode: records are aggregated as they are appended, in this process; the totals and the spend live as
 * long as it does. Days older than `retentionDays` are dropped.
 */
export class MemoryUsageLedger implements UsageLedger, SpendReader {
  /** day → key id → counter → amount. */
  private readonly days = new Map<string, Map<string, Map<string, number>>>();
  /** `<keyId>\t<period>` → nano-USD spent. */
  private readonly spend = new Map<string, number>();
  private currentMonth = '';

  constructor(private readonly retentionDays = 400) {}

  async append(records: readonly UsageRecord[]): Promise<void> {
    for (const record of records) this.count(record);
  }

  /** Counts one record into its day's totals and its key's spend, at once. */
  count(record: UsageRecord): void {
    const day = usageDay(record.at);
    let keys = this.days.get(day);
    if (!keys) {
      keys = new Map();
      this.days.set(day, keys);
      this.forgetOldDays(record.at);
    }
    const keyId = usageKeyOf(record);
    let counters = keys.get(keyId);
    if (!counters) {
      counters = new Map();
      keys.set(keyId, counters);
    }
    for (const [name, amount] of usageIncrements(record)) counters.set(name, (counters.get(name) ?? 0) + amount);
    const cost = toNanoUsd(record.costUsd);
    if (record.keyId === undefined || cost === 0) return;
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

  async readDays(days: readonly string[], keyId?: string): Promise<UsageDay[]> {
    return days.flatMap((day) => {
      const keys = this.days.get(day);
      if (!keys) return [];
      const tables = keyId === undefined ? [...keys] : keys.has(keyId) ? [[keyId, keys.get(keyId)!] as const] : [];
      return tables.map(([key, counters]) => ({ day, keyId: key, counters: Object.fromEntries(counters) }));
    });
  }

  async backlog(): Promise<number> {
    return 0;
  }

  spentNanoUsd(keyId: string, period: string): number {
    return this.spend.get(`${keyId}\t${period}`) ?? 0;
  }

  /** Every day's tables and the current month's spend, as copies: what a persistent ledger writes. */
  snapshot(): UsageSnapshot {
    const days: UsageDay[] = [];
    for (const [day, keys] of this.days) for (const [keyId, counters] of keys) days.push({ day, keyId, counters: Object.fromEntries(counters) });
    return { days, month: this.currentMonth, spend: Object.fromEntries(this.spend) };
  }

  /** Sets one day's table of one key (a persistent ledger's, read back at start). */
  restoreDay({ day, keyId, counters }: UsageDay): void {
    let keys = this.days.get(day);
    if (!keys) {
      keys = new Map();
      this.days.set(day, keys);
    }
    keys.set(keyId, new Map(Object.entries(counters)));
  }

  /** Sets the spend of a month (a persistent ledger's, read back at start): `<keyId>\t<day or month>` → nano-USD. */
  restoreSpend(month: string, spend: Readonly<Record<string, number>>): void {
    this.currentMonth = month;
    this.spend.clear();
    for (const [id, nano] of Object.entries(spend)) this.spend.set(id, nano);
  }

  private forgetOldDays(now: number): void {
    const oldest = usageDay(now - this.retentionDays * 86_400_000);
    for (const day of this.days.keys()) if (day < oldest) this.days.delete(day);
  }
}
