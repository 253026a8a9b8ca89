import type { Logger } from '../logger/logger.js';
import type { SpendReader } from '../state/limits.js';
import { JournalFile, type JournalFileOptions } from '../storage/journal-file.js';
import { MemoryUsageLedger } from './memory-usage-ledger.js';
import { asUsageRecord, type UsageRecord } from './usage-record.js';
import type { UsageLedger } from './usage-ledger.js';
import type { UsageDay } from './usage-totals.js';

export interface FileUsageLedgerOptions {
  /** The journal, e.g. `<dataDir>/usage.jsonl`. */
  readonly path: string;
  readonly logger: Logger;
  /** Days of daily totals kept (config usage.retentionDays). */
  readonly retentionDays: number;
  /** Passed to the journal (tests use small ones). */
  readonly journal?: Pick<JournalFileOptions, 'fsyncIntervalMs' | 'compactMinBytes'>;
}

/**
 * Embedded mode's usage, kept across restarts: a MemoryUsageLedger that answers totals and spend (what budgets
 * read), and a journal (`usage.jsonl`) of the records counted into it. A rewrite replaces the records with the
 * ledger's tables (one line per day and key) and the current month's spend. `append` does not wait for the disk:
 * records reach the file within a few milliseconds (the journal's `writeDelayMs`) and the disk within a second (Redis's `everysec`).
 */
export class FileUsageLedger implements UsageLedger, SpendReader {
  private constructor(
    private readonly memory: MemoryUsageLedger,
    private readonly journal: JournalFile,
  ) {}

  static async open(options: FileUsageLedgerOptions): Promise<FileUsageLedger> {
    const memory = new MemoryUsageLedger(options.retentionDays);
    const journal = await JournalFile.open(
      { ...options.journal, path: options.path, kind: 'usage', logger: options.logger },
      { replay: (entry) => replayUsageEntry(memory, entry), snapshot: () => usageLines(memory) },
    );
    return new FileUsageLedger(memory, journal);
  }

  async append(records: readonly UsageRecord[]): Promise<void> {
    for (const record of records) {
      this.memory.count(record);
      this.journal.append({ record });
    }
  }

  readDays(days: readonly string[], keyId?: string): Promise<UsageDay[]> {
    return this.memory.readDays(days, keyId);
  }

  backlog(): Promise<number> {
    return this.memory.backlog();
  }

  spentNanoUsd(keyId: string, period: string): number {
    return this.memory.spentNanoUsd(keyId, period);
  }

  /** Writes and fsyncs what is queued, then closes the journal. */
  close(): Promise<void> {
    return this.journal.close();
  }
}

/** The ledger as journal lines: one per day and key (`{ day, keyId, counters }`), then the month's spend. */
function* usageLines(memory: MemoryUsageLedger): Iterable<object> {
  const { days, month, spend } = memory.snapshot();
  yield* days;
  yield { month, spend };
}

/** Applies one journal line: a record, a day's table of a key, or the month's spend. */
function replayUsageEntry(memory: MemoryUsageLedger, entry: unknown): void {
  const line = entry as { record?: unknown; day?: unknown; keyId?: unknown; counters?: unknown; month?: unknown; spend?: unknown } | null;
  const record = line?.record === undefined ? undefined : asUsageRecord(line.record);
  if (record) return memory.count(record);
  if (typeof line?.day === 'string' && typeof line.keyId === 'string' && isAmounts(line.counters)) {
    return memory.restoreDay({ day: line.day, keyId: line.keyId, counters: line.counters });
  }
  if (typeof line?.month === 'string' && isAmounts(line.spend)) return memory.restoreSpend(line.month, line.spend);
  throw new Error(`not a usage entry: ${JSON.stringify(entry).slice(0, 200)}`);
}

function isAmounts(value: unknown): value is Record<string, number> {
  return typeof value === 'object' && value !== null && Object.values(value).every((amount) => typeof amount === 'number' && Number.isFinite(amount));
}
