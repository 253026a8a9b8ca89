import {
  daysBetween,
  effectiveWeight,
  summarizeUsage,
  usageDay,
  usageMonth,
  ROUTING_STATS_WINDOW_MS,
  type ApiKeyRecord,
  type Deployment,
  type KeyStore,
  type RateLimits,
  type UsageLedger,
} from '@dosrouter/shared';
import type { ClusterState } from '../cluster/cluster-state.js';
import { DeploymentHistory, HISTORY_SAMPLE_MS, type DeploymentSample, type DeploymentSeries } from './deployment-history.js';
import { newestFirst, readClusterRecentRequests } from './recent-requests-store.js';
import type { RecentRequest, RecentRequests } from './recent-requests.js';

/** Days of per-model cost the spend chart shows. */
export const SPEND_CHART_DAYS = 30;

export interface DashboardDataOptions {
  readonly cluster: ClusterState;
  /** The deployments to show (those of the config serving now). */
  readonly deployments: () => readonly Deployment[];
  readonly recent: RecentRequests;
  /** Client keys; absent when the gateway runs open. */
  readonly keys?: KeyStore;
  /** Usage totals; absent when usage recording is off. */
  readonly ledger?: UsageLedger;
  /** `limits.perKey`: the limits a key without its own has. */
  readonly perKeyLimits: RateLimits;
  readonly wallClock: () => number;
}

/** How a deployment looks on the Deployments page: the prober's view, its circuit, and the rolling window's figures. */
export interface DeploymentView {
  readonly id: string;
  readonly model: string;
  readonly backend: string;
  readonly configuredWeight: number;
  readonly weight: number;
  /** The prober's health state and score (the prober process's, or the embedded prober's), once it has published. */
  readonly health: { readonly state: string; readonly score: number } | null;
  readonly circuit: { readonly state: string; readonly reason: string | null; readonly openedAt: number | null; readonly remainingMs: number | null };
  readonly inFlight: number;
  readonly requestsPerSecond: number;
  readonly errorRate: number;
  readonly latencyMs: { readonly mean: number | null; readonly p50: number | null; readonly p99: number | null };
  readonly ttftMs: { readonly mean: number | null; readonly p50: number | null; readonly p99: number | null };
  readonly queueWait: { readonly meanMs: number; readonly requests: number } | null;
  readonly costPerHourUsd: number;
  readonly history: DeploymentSeries;
}

const CIRCUIT_REASONS: Record<string, string> = {
  errors: 'error rate over the breaker threshold (or a failed half-open trial)',
  rate_limit: 'the backend answered 429 with Retry-After',
};

/**
 * What the dashboard's pages show, read from what the replica already holds: the routing snapshot (cluster-wide in
 * cluster mode), the breakers, the recent-requests ring, the key store and the usage ledger. Nothing here runs on a
 * request's path; the only timer samples the sparklines every 10 s.
 */
export class DashboardData {
  private readonly history = new DeploymentHistory();
  private readonly timer: NodeJS.Timeout;

  constructor(private readonly options: DashboardDataOptions) {
    this.sample();
    this.timer = setInterval(() => this.sample(), HISTORY_SAMPLE_MS);
    this.timer.unref();
  }

  close(): void {
    clearInterval(this.timer);
  }

  /** Takes one sparkline sample of every deployment now (the timer's job; tests call it to avoid waiting). */
  sample(): void {
    const samples = new Map<string, DeploymentSample>();
    for (const view of this.currentDeployments()) {
      samples.set(view.id, {
        requestsPerSecond: view.requestsPerSecond,
        errorRate: view.errorRate,
        p99LatencyMs: view.latencyMs.p99,
        inFlight: view.inFlight,
        weight: view.weight,
      });
    }
    this.history.record(this.options.wallClock(), samples);
  }

  deployments(): DeploymentView[] {
    return this.currentDeployments().map((view) => ({ ...view, history: this.history.seriesOf(view.id) }));
  }

  private currentDeployments(): Omit<DeploymentView, 'history'>[] {
    const { cluster, deployments } = this.options;
    const snapshot = cluster.snapshot();
    const circuits = cluster.breakers.circuits();
    const document = cluster.weightsDocument?.();
    const windowSeconds = ROUTING_STATS_WINDOW_MS / 1000;
    return deployments().map((deployment) => {
      const stats = snapshot.stats.get(deployment.id);
      const circuit = circuits.get(deployment.id);
      const health = document?.health?.[deployment.id];
      return {
        id: deployment.id,
        model: deployment.model,
        backend: deployment.backend,
        configuredWeight: deployment.weight,
        weight: effectiveWeight(deployment, snapshot),
        health: health ? { state: health.state, score: health.score } : null,
        circuit: {
          state: circuit?.state ?? 'closed',
          reason: circuit?.cause ? (CIRCUIT_REASONS[circuit.cause] ?? circuit.cause) : null,
          openedAt: circuit?.openedAt ?? null,
          remainingMs: circuit?.remainingMs ?? null,
        },
        inFlight: snapshot.inFlight.get(deployment.id) ?? 0,
        requestsPerSecond: round((stats?.requests ?? 0) / windowSeconds),
        errorRate: round(stats?.errorRate ?? 0),
        latencyMs: { mean: roundOrNull(stats?.meanLatencyMs), p50: stats?.latencyPercentilesMs?.p50 ?? null, p99: stats?.latencyPercentilesMs?.p99 ?? null },
        ttftMs: { mean: roundOrNull(stats?.meanTtftMs), p50: stats?.ttftPercentilesMs?.p50 ?? null, p99: stats?.ttftPercentilesMs?.p99 ?? null },
        queueWait: stats?.queueWait ? { meanMs: round(stats.queueWait.meanMs), requests: stats.queueWait.requests } : null,
        costPerHourUsd: round(((stats?.costUsd ?? 0) * 3600) / windowSeconds, 6),
      };
    });
  }

  /** The cluster's recent requests (this replica's alone in embedded mode), newest first, each key named. */
  async recentRequests(limit = this.options.recent.capacity): Promise<(RecentRequest & { keyName: string | null })[]> {
    const { cluster, recent } = this.options;
    const entries =
      cluster.redis && cluster.keys ? await readClusterRecentRequests(cluster.redis, cluster.keys, recent, cluster.replica, limit) : newestFirst(recent.list(), limit);
    const names = await this.keyNames();
    return entries.map((entry) => ({ ...entry, keyName: entry.keyId === null ? null : (names.get(entry.keyId) ?? null) }));
  }

  /** One recent request by its id (and replica, when the same id was served twice), or undefined. */
  async recentRequest(id: string, replica?: string): Promise<(RecentRequest & { keyName: string | null }) | undefined> {
    return (await this.recentRequests()).find((entry) => entry.id === id && (replica === undefined || entry.replica === replica));
  }

  /**
   * Every key with today's and this month's spend (UTC, from the usage totals) against its budgets, its rate
   * limits and, in cluster mode, how much of the current minute's window it has used.
   */
  async keys(): Promise<Record<string, unknown>[]> {
    const { keys, ledger, cluster } = this.options;
    if (!keys) return [];
    const records = await keys.list();
    const now = this.options.wallClock();
    const today = usageDay(now);
    const monthStart = `${usageMonth(now)}-01`;
    const days = ledger ? await ledger.readDays(daysBetween(monthStart, today)) : [];
    const spendOf = (from: string): Map<string, number> =>
      new Map(summarizeUsage(days, { from, to: today, groupBy: ['key'] }).rows.map((row) => [row.key!, row.cost_usd]));
    const [todaySpend, monthSpend] = [spendOf(today), spendOf(monthStart)];
    const windows = cluster.redis && cluster.keys ? await this.limitWindows(records, now) : new Map<string, { requests: number; tokens: number }>();
    return records.map((record) => {
      const limits = { ...this.options.perKeyLimits, ...definedFields(record.limits) };
      return {
        id: record.id,
        name: record.name,
        preview: record.preview,
        revoked: record.revokedAt !== undefined,
        lastUsedAt: record.lastUsedAt ?? null,
        spend: {
          todayUsd: todaySpend.get(record.id) ?? 0,
          monthUsd: monthSpend.get(record.id) ?? 0,
          dailyBudgetUsd: record.budget.dailyUsd ?? null,
          monthlyBudgetUsd: record.budget.monthlyUsd ?? null,
        },
        limits: { requestsPerMinute: limits.requestsPerMinute ?? null, tokensPerMinute: limits.tokensPerMinute ?? null, concurrency: limits.concurrency ?? null },
        // The current one-minute window's counts, as admissions see them (cluster mode; null: not known here).
        window: windows.get(record.id) ?? null,
      };
    });
  }

  /** Per model, what each of the last 30 UTC days cost (every key), for the spend chart. */
  async spendByModel(): Promise<{ days: string[]; models: { model: string; costUsd: number[] }[] }> {
    const now = this.options.wallClock();
    const to = usageDay(now);
    const from = usageDay(now - (SPEND_CHART_DAYS - 1) * 86_400_000);
    const days = daysBetween(from, to);
    if (!this.options.ledger) return { days, models: [] };
    const { rows } = summarizeUsage(await this.options.ledger.readDays(days), { from, to, groupBy: ['model', 'day'] });
    const byModel = new Map<string, number[]>();
    for (const row of rows) {
      const costs = byModel.get(row.model!) ?? new Array<number>(days.length).fill(0);
      costs[days.indexOf(row.day!)] = row.cost_usd;
      byModel.set(row.model!, costs);
    }
    return { days, models: [...byModel].map(([model, costUsd]) => ({ model, costUsd })).sort((a, b) => (a.model < b.model ? -1 : 1)) };
  }

  private async keyNames(): Promise<Map<string, string>> {
    return new Map((await this.options.keys?.list())?.map((record) => [record.id, record.name]) ?? []);
  }

  /** Each key's current rate-limit window in Redis (`{limits}:window:key:<id>`), when it is still the current minute. */
  private async limitWindows(records: readonly ApiKeyRecord[], now: number): Promise<Map<string, { requests: number; tokens: number }>> {
    const { redis, keys } = this.options.cluster;
    const windows = new Map<string, { requests: number; tokens: number }>();
    if (!redis || !keys || records.length === 0) return windows;
    const read = redis.pipeline();
    for (const record of records) read.hmget(keys.limitWindow(`key:${record.id}`), 'start', 'requests', 'tokens');
    const replies = (await read.exec()) ?? [];
    replies.forEach(([error, values], index) => {
      if (error) return;
      const [start, requests, tokens] = (values as (string | null)[]).map((value) => (value === null ? undefined : Number(value)));
      const current = start !== undefined && now - start < 60_000;
      windows.set(records[index]!.id, { requests: current ? (requests ?? 0) : 0, tokens: current ? (tokens ?? 0) : 0 });
    });
    return windows;
  }
}

function definedFields(limits: RateLimits): RateLimits {
  return Object.fromEntries(Object.entries(limits).filter(([, value]) => value !== undefined));
}

function round(value: number, digits = 3): number {
  const scale = 10 ** digits;
  return Math.round(value * scale) / scale;
}

function roundOrNull(value: number | undefined): number | null {
  return value === undefined ? null : round(value);
}
