/** Rolling per-deployment statistics, in fixed buckets; every replica adds to the same buckets. */
export const STATS_BUCKET_MS = 10_000;
/** The window of rolling stats that routing and the prober's weights read. */
export const ROUTING_STATS_WINDOW_MS = 60_000;
/** How far back stats are kept. */
export const STATS_HORIZON_MS = 5 * 60_000;

/** One request's contribution. */
export interface StatsSample {
  readonly ok: boolean;
  readonly latencyMs: number;
  /** Streams only: from receiving the request to its first token. */
  readonly ttftMs?: number;
  readonly outputTokens?: number;
  /** Streams only: from the first token to the last, for tokens per second. */
  readonly generationMs?: number;
}

/** Sums over a window. Field names are the Redis hash fields, kept short: they are written on every flush. */
export interface StatsTotals {
  r: number; // requests
  e: number; // errors
  l: number; // latency sum (ms)
  t: number; // time to first token sum (ms)
  tc: number; // requests with a time to first token
  o: number; // output tokens of requests with a generation time
  g: number; // generation time sum (ms)
}

export const STATS_FIELDS = ['r', 'e', 'l', 't', 'tc', 'o', 'g'] as const;

export function emptyTotals(): StatsTotals {
  return { r: 0, e: 0, l: 0, t: 0, tc: 0, o: 0, g: 0 };
}

export function addSample(totals: StatsTotals, sample: StatsSample): void {
  totals.r += 1;
  if (!sample.ok) totals.e += 1;
  totals.l += Math.round(sample.latencyMs);
  if (sample.ttftMs !== undefined) {
    totals.t += Math.round(sample.ttftMs);
    totals.tc += 1;
  }
  if (sample.generationMs !== undefined && sample.generationMs > 0 && sample.outputTokens) {
    totals.o += sample.outputTokens;
    totals.g += Math.round(sample.generationMs);
  }
}

export function addTotals(into: StatsTotals, from: StatsTotals): void {
  for (const field of STATS_FIELDS) into[field] += from[field];
}

/** What routing and the prober read. Means are undefined when there is nothing to average. */
export interface DeploymentStats {
  readonly requests: number;
  readonly errorRate: number;
  readonly meanLatencyMs?: number;
  readonly meanTtftMs?: number;
  readonly tokensPerSecond?: number;
}

export function summarize(totals: StatsTotals): DeploymentStats {
  return {
    requests: totals.r,
    errorRate: totals.r === 0 ? 0 : totals.e / totals.r,
    meanLatencyMs: totals.r === 0 ? undefined : totals.l / totals.r,
    meanTtftMs: totals.tc === 0 ? undefined : totals.t / totals.tc,
    tokensPerSecond: totals.g === 0 ? undefined : (totals.o * 1000) / totals.g,
  };
}

export function bucketStart(timeMs: number): number {
  return timeMs - (timeMs % STATS_BUCKET_MS);
}

/** Bucket starts covering the last `windowMs`, newest last. */
export function bucketsInWindow(nowMs: number, windowMs: number): number[] {
  const newest = bucketStart(nowMs);
  const count = Math.max(1, Math.ceil(windowMs / STATS_BUCKET_MS));
  return Array.from({ length: count }, (_, index) => newest - (count - 1 - index) * STATS_BUCKET_MS);
}

/** Records samples and reads windows of them. */
export interface StatsStore {
  record(deploymentId: string, sample: StatsSample): void;
  /** Writes what was recorded since the last flush (Redis: one pipeline). */
  flush(): Promise<void>;
  read(deploymentIds: readonly string[], windowMs: number): Promise<Map<string, DeploymentStats>>;
}
