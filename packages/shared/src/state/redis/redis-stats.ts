import type { RedisClient } from './connection.js';
import type { RedisKeys } from '../keys.js';
import {
  STATS_BUCKET_MS,
  STATS_FIELDS,
  STATS_HORIZON_MS,
  addSample,
  bucketStart,
  bucketsInWindow,
  emptyTotals,
  summarize,
  type DeploymentStats,
  type StatsSample,
  type StatsStore,
  type StatsTotals,
} from '../rolling-stats.js';
import type { ScriptCommands } from './scripts.js';

/**
 * Rolling stats shared by every replica. Samples add up in memory and are written once a second in one
 * pipeline (HINCRBY per field and bucket), never on a request's path.
 */
export class RedisStats implements StatsStore {
  private pending = new Map<string, StatsTotals>();

  constructor(
    private readonly redis: RedisClient & ScriptCommands,
    private readonly keys: RedisKeys,
    private readonly clock: () => number = Date.now,
  ) {}

  record(deploymentId: string, sample: StatsSample): void {
    const key = this.keys.statsBucket(deploymentId, bucketStart(this.clock()));
    let totals = this.pending.get(key);
    if (!totals) {
      totals = emptyTotals();
      this.pending.set(key, totals);
    }
    addSample(totals, sample);
  }

  async flush(): Promise<void> {
    if (this.pending.size === 0) return;
    const batch = this.pending;
    this.pending = new Map();
    const pipeline = this.redis.pipeline();
    for (const [key, totals] of batch) {
      for (const field of STATS_FIELDS) if (totals[field] !== 0) pipeline.hincrby(key, field, totals[field]);
      pipeline.pexpire(key, STATS_HORIZON_MS + STATS_BUCKET_MS);
    }
    const results = await pipeline.exec();
    const failed = results?.find(([error]) => error);
    if (failed) throw failed[0];
  }

  async read(deploymentIds: readonly string[], windowMs: number): Promise<Map<string, DeploymentStats>> {
    const buckets = bucketsInWindow(this.clock(), windowMs);
    const pipeline = this.redis.pipeline() as unknown as ScriptCommands & { exec(): Promise<[Error | null, unknown][] | null> };
    for (const deploymentId of deploymentIds) {
      const keys = buckets.map((start) => this.keys.statsBucket(deploymentId, start));
      void pipeline.dosrouterReadStatsV1(keys.length, ...keys, ...STATS_FIELDS);
    }
    const results = (await pipeline.exec()) ?? [];
    const stats = new Map<string, DeploymentStats>();
    deploymentIds.forEach((deploymentId, index) => {
      const [error, sums] = results[index] ?? [new Error('no reply'), undefined];
      if (error) throw error;
      const totals = emptyTotals();
      STATS_FIELDS.forEach((field, fieldIndex) => (totals[field] = Number((sums as number[])[fieldIndex] ?? 0)));
      stats.set(deploymentId, summarize(totals));
    });
    return stats;
  }
}
