import type { UsageRecord } from './usage-record.js';
import type { UsageDay } from './usage-totals.js';

/**
 * Where usage records go and totals come from: Redis in cluster mode (a stream, aggregated by consumers on every
 * replica), memory in embedded mode.
 */
export interface UsageLedger {
  /**
   * Makes records durable and counts their cost against their keys' spend (what budgets read). Resolves once they
   * are: in the Redis stream, or aggregated in memory. Rejects when they are not (the caller keeps them to retry).
   */
  append(records: readonly UsageRecord[]): Promise<void>;
  /** The daily totals of the given UTC days, of one key or of every key (tables with nothing are left out). */
  readDays(days: readonly string[], keyId?: string): Promise<UsageDay[]>;
  /** Records written but not yet counted in the totals (always 0 in memory). */
  backlog(): Promise<number>;
}
