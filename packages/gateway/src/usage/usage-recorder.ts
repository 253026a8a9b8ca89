import type { Logger, UsageLedger, UsageRecord } from '@dosrouter/shared';
import type { GatewayMetrics } from '../telemetry/metrics.js';

export interface UsageRecorderOptions {
  readonly ledger: UsageLedger;
  readonly metrics: GatewayMetrics;
  readonly logger: Logger;
  /** Longest an answer's end waits for its record to be written; 0: answers do not wait. */
  readonly commitTimeoutMs: number;
  /** Records kept to retry while Redis fails; beyond it the oldest are dropped (and counted). */
  readonly spoolLimit: number;
  /** How often spooled records are retried. */
  readonly retryIntervalMs?: number;
  /** Sees every record as it is taken (this replica's view of its keys' spend). */
  readonly onRecord?: (record: UsageRecord) => void;
  /** The ledger is in this process (embedded: memory, and a journal it does not wait for): a write cannot be slow, so an answer waits for it without a timer. */
  readonly inMemory?: boolean;
}

/** Records retried at once when emptying the spool, each on its own (one bad record does not hold back the rest). */
const SPOOL_BATCH = 500;

/**
 * Hands usage records to the ledger as they come; in cluster mode the commands of one event-loop turn share one
 * round trip (ioredis auto-pipelining), so concurrent answers batch without waiting a turn. An answer's record is committed before the answer's last bytes are sent (`commit`),
 * so a client that saw its answer complete has its record in Redis even if this replica is killed a moment later;
 * only requests still in flight are lost with a replica. When Redis fails, records wait in a bounded spool and are
 * retried; answers then no longer wait for them.
 */
export class UsageRecorder {
  private spool: UsageRecord[] = [];
  private readonly writes = new Set<Promise<void>>();
  private readonly retryTimer: NodeJS.Timeout;
  private retrying: Promise<void> | undefined;
  private failing = false;

  constructor(private readonly options: UsageRecorderOptions) {
    this.retryTimer = setInterval(() => void this.retrySpool(), options.retryIntervalMs ?? 1_000);
    this.retryTimer.unref();
  }

  /** Resolves once the record is written, or after commitTimeoutMs, or at once while Redis is failing. Never rejects. */
  commit(record: UsageRecord): Promise<void> {
    const write = this.take(record);
    if (this.options.commitTimeoutMs === 0) return Promise.resolve();
    if (this.failing || this.options.inMemory) return write;
    return new Promise<void>((resolve) => {
      const timer = setTimeout(() => {
        this.options.metrics.recordUsageRecords('late');
        resolve();
      }, this.options.commitTimeoutMs);
      void write.then(() => {
        clearTimeout(timer);
        resolve();
      });
    });
  }

  /** Takes a record without waiting for it (requests that ended without an answer: errors, clients gone). */
  record(record: UsageRecord): void {
    void this.take(record);
  }

  /** Waits for the writes under way and retries the spool once; records still unwritten are reported as lost. */
  async close(): Promise<void> {
    clearInterval(this.retryTimer);
    await Promise.all(this.writes);
    // A retry under way finishes first; then one more for what is left.
    await this.retrying;
    if (this.spool.length > 0) await this.retrySpool();
    if (this.spool.length > 0) {
      this.options.logger.error('usage records could not be written before shutdown and are lost', { records: this.spool.length });
      this.options.metrics.recordUsageRecords('dropped', this.spool.length);
      this.spool = [];
      this.options.metrics.usageSpool.set(0);
    }
  }

  /** Writes one record (or spools it, while Redis fails); resolves when that is done, never rejects. */
  private take(record: UsageRecord): Promise<void> {
    this.options.onRecord?.(record);
    if (this.failing) {
      // Keep the order: this one goes after the spooled ones.
      this.toSpool([record]);
      return Promise.resolve();
    }
    const write = this.options.ledger.append([record]).then(
      () => this.options.metrics.recordUsageRecords('written'),
      (error: unknown) => {
        this.markFailing(error);
        this.toSpool([record]);
      },
    );
    this.writes.add(write);
    void write.then(() => this.writes.delete(write));
    return write;
  }

  private markFailing(error: unknown): void {
    if (this.failing) return;
    this.failing = true;
    this.options.logger.warn('usage records cannot be written: keeping them in memory to retry', { error: error instanceof Error ? error.message : String(error) });
  }

  private toSpool(records: readonly UsageRecord[]): void {
    this.spool.push(...records);
    this.options.metrics.recordUsageRecords('spooled', records.length);
    const excess = this.spool.length - this.options.spoolLimit;
    if (excess > 0) {
      this.spool.splice(0, excess);
      this.options.metrics.recordUsageRecords('dropped', excess);
      this.options.logger.error('usage spool is full: dropping the oldest records', { dropped: excess, spoolLimit: this.options.spoolLimit });
    }
    this.options.metrics.usageSpool.set(this.spool.length);
  }

  /** Puts records that failed again back at the front, keeping the limit (the oldest go first). */
  private toSpoolFront(records: readonly UsageRecord[]): void {
    this.spool.unshift(...records);
    const excess = this.spool.length - this.options.spoolLimit;
    if (excess > 0) {
      this.spool.splice(0, excess);
      this.options.metrics.recordUsageRecords('dropped', excess);
    }
  }

  /** Retries the spool a batch at a time, each record on its own; what fails stays, in order, for the next retry. */
  private retrySpool(): Promise<void> {
    if (this.retrying) return this.retrying;
    if (this.spool.length === 0) {
      // Nothing held (spoolLimit 0 drops at once): the next record tries Redis again instead of being spooled.
      this.failing = false;
      return Promise.resolve();
    }
    this.retrying = (async () => {
      try {
        while (this.spool.length > 0) {
          const batch = this.spool.splice(0, SPOOL_BATCH);
          const results = await Promise.allSettled(batch.map((record) => this.options.ledger.append([record])));
          const failed = batch.filter((_, index) => results[index]!.status === 'rejected');
          this.options.metrics.recordUsageRecords('written', batch.length - failed.length);
          if (failed.length > 0) {
            this.toSpoolFront(failed);
            this.options.metrics.usageSpool.set(this.spool.length);
            return;
          }
          this.options.metrics.usageSpool.set(this.spool.length);
        }
        if (this.failing) this.options.logger.info('usage records are written again: the spool is empty');
        this.failing = false;
      } finally {
        this.retrying = undefined;
      }
    })();
    return this.retrying;
  }
}
