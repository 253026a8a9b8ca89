import { STATS_HORIZON_MS, addSample, addTotals, bucketStart, bucketsInWindow, emptyTotals, summarize, type DeploymentStats, type StatsSample, type StatsStore, type StatsTotals } from '../rolling-stats.js';

/** Rolling stats within one process (embedded mode). */
export class MemoryStats implements StatsStore {
  private readonly buckets = new Map<string, Map<number, StatsTotals>>();

  constructor(private readonly clock: () => number) {}

  record(deploymentId: string, sample: StatsSample): void {
    const now = this.clock();
    const byBucket = this.buckets.get(deploymentId) ?? new Map<number, StatsTotals>();
    this.buckets.set(deploymentId, byBucket);
    const start = bucketStart(now);
    let totals = byBucket.get(start);
    if (!totals) {
      totals = emptyTotals();
      byBucket.set(start, totals);
      for (const old of byBucket.keys()) if (old < now - STATS_HORIZON_MS) byBucket.delete(old);
    }
    addSample(totals, sample);
  }

  async flush(): Promise<void> {}

  async read(deploymentIds: readonly string[], windowMs: number): Promise<Map<string, DeploymentStats>> {
    const buckets = bucketsInWindow(this.clock(), windowMs);
    const result = new Map<string, DeploymentStats>();
    for (const deploymentId of deploymentIds) {
      const totals = emptyTotals();
      const byBucket = this.buckets.get(deploymentId);
      for (const start of buckets) {
        const bucket = byBucket?.get(start);
        if (bucket) addTotals(totals, bucket);
      }
      result.set(deploymentId, summarize(totals));
    }
    return result;
  }
}
