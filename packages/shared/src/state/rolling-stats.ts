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
  /** What the request waited in the gateway's queues and for a connection before this attempt (absent or 0: none). */
  readonly queueWaitMs?: number;
  /** What the attempt's answer cost at the catalog's prices (USD), when it was settled. */
  readonly costUsd?: number;
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
  /** Requests whose time to first token was at most TTFT_BUCKETS_MS[i] (and more than the bucket before): h0…h11. */
  h0: number;
  h1: number;
  h2: number;
  h3: number;
  h4: number;
  h5: number;
  h6: number;
  h7: number;
  h8: number;
  h9: number;
  h10: number;
  h11: number;
  /** Requests whose latency was at most LATENCY_BUCKETS_MS[i] (and more than the bucket before): lh0…lh11. */
  lh0: number;
  lh1: number;
  lh2: number;
  lh3: number;
  lh4: number;
  lh5: number;
  lh6: number;
  lh7: number;
  lh8: number;
  lh9: number;
  lh10: number;
  lh11: number;
  w: number; // queue wait sum (ms) of requests that waited
  wc: number; // requests that waited
  c: number; // cost sum (nano-USD)
}

/** Upper bounds of the time-to-first-token histogram's buckets, ms; the last one takes everything longer. */
export const TTFT_BUCKETS_MS = [50, 100, 200, 300, 500, 750, 1_000, 1_500, 2_000, 3_000, 5_000, Number.POSITIVE_INFINITY] as const;
const HISTOGRAM_FIELDS = ['h0', 'h1', 'h2', 'h3', 'h4', 'h5', 'h6', 'h7', 'h8', 'h9', 'h10', 'h11'] as const;
/** Upper bounds of the latency histogram's buckets, ms; the last one takes everything longer. */
export const LATENCY_BUCKETS_MS = [50, 100, 200, 500, 1_000, 2_000, 5_000, 10_000, 20_000, 30_000, 60_000, Number.POSITIVE_INFINITY] as const;
const LATENCY_FIELDS = ['lh0', 'lh1', 'lh2', 'lh3', 'lh4', 'lh5', 'lh6', 'lh7', 'lh8', 'lh9', 'lh10', 'lh11'] as const;

// A reader of an older release sums only the fields it knows; buckets an older writer wrote lack the newer ones
// (their percentiles read as unknown), so replicas of both releases can share Redis during a rolling deploy.
export const STATS_FIELDS = ['r', 'e', 'l', 't', 'tc', 'o', 'g', ...HISTOGRAM_FIELDS, ...LATENCY_FIELDS, 'w', 'wc', 'c'] as const;

export function emptyTotals(): StatsTotals {
  const totals = {} as StatsTotals;
  for (const field of STATS_FIELDS) totals[field] = 0;
  return totals;
}

export function addSample(totals: StatsTotals, sample: StatsSample): void {
  totals.r += 1;
  if (!sample.ok) totals.e += 1;
  totals.l += Math.round(sample.latencyMs);
  totals[LATENCY_FIELDS[bucketOf(LATENCY_BUCKETS_MS, sample.latencyMs)]!] += 1;
  if (sample.queueWaitMs !== undefined && sample.queueWaitMs > 0) {
    totals.w += Math.round(sample.queueWaitMs);
    totals.wc += 1;
  }
  if (sample.costUsd !== undefined && sample.costUsd > 0) totals.c += Math.round(sample.costUsd * 1e9);
  if (sample.ttftMs !== undefined) {
    totals.t += Math.round(sample.ttftMs);
    totals.tc += 1;
    totals[HISTOGRAM_FIELDS[bucketOf(TTFT_BUCKETS_MS, sample.ttftMs)]!] += 1;
  }
  if (sample.generationMs !== undefined && sample.generationMs > 0 && sample.outputTokens) {
    totals.o += sample.outputTokens;
    totals.g += Math.round(sample.generationMs);
  }
}

/** The index of the first bound at or above `value` (the last bound is infinite, so there is always one). */
function bucketOf(bounds: readonly number[], value: number): number {
  let index = 0;
  while (value > bounds[index]!) index += 1;
  return index;
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
  /**
   * Percentiles of the time to first token, each the upper bound of the histogram bucket it falls in (so never
   * below the true value; undefined past the last finite bound, and with no stream in the window).
   */
  readonly ttftPercentilesMs?: { readonly p50?: number; readonly p90?: number; readonly p95?: number; readonly p99?: number };
  readonly tokensPerSecond?: number;
  /** Percentiles of the latency, each the upper bound of its histogram bucket (as `ttftPercentilesMs`). */
  readonly latencyPercentilesMs?: { readonly p50?: number; readonly p99?: number };
  /** Mean wait in the gateway's queues of the requests that waited, and how many did. */
  readonly queueWait?: { readonly meanMs: number; readonly requests: number };
  /** What the window's answers cost (USD). */
  readonly costUsd?: number;
}

export function summarize(totals: StatsTotals): DeploymentStats {
  return {
    requests: totals.r,
    errorRate: totals.r === 0 ? 0 : totals.e / totals.r,
    meanLatencyMs: totals.r === 0 ? undefined : totals.l / totals.r,
    meanTtftMs: totals.tc === 0 ? undefined : totals.t / totals.tc,
    ...(totals.tc === 0
      ? {}
      : { ttftPercentilesMs: { p50: percentile(totals, 0.5), p90: percentile(totals, 0.9), p95: percentile(totals, 0.95), p99: percentile(totals, 0.99) } }),
    tokensPerSecond: totals.g === 0 ? undefined : (totals.o * 1000) / totals.g,
    ...(LATENCY_FIELDS.some((field) => totals[field] > 0)
      ? { latencyPercentilesMs: { p50: percentile(totals, 0.5, LATENCY_FIELDS, LATENCY_BUCKETS_MS), p99: percentile(totals, 0.99, LATENCY_FIELDS, LATENCY_BUCKETS_MS) } }
      : {}),
    ...(totals.wc === 0 ? {} : { queueWait: { meanMs: totals.w / totals.wc, requests: totals.wc } }),
    ...(totals.c === 0 ? {} : { costUsd: totals.c / 1e9 }),
  };
}

function percentile(
  totals: StatsTotals,
  quantile: number,
  fields: readonly (keyof StatsTotals)[] = HISTOGRAM_FIELDS,
  bounds: readonly number[] = TTFT_BUCKETS_MS,
): number | undefined {
  const counted = fields.reduce((sum, field) => sum + totals[field], 0);
  if (counted === 0) return undefined;
  let seen = 0;
  for (const [index, field] of fields.entries()) {
    seen += totals[field];
    if (seen >= quantile * counted) return Number.isFinite(bounds[index]) ? bounds[index] : undefined;
  }
  return undefined;
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
