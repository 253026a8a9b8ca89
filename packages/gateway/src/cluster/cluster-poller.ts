import {
  EMPTY_SNAPSHOT,
  passiveWeights,
  weightedDeployments,
  type WeightedDeployment,
  type BreakerStore,
  type Deployment,
  type Logger,
  type RedisHealth,
  type RedisClient,
  type RedisKeys,
  type RoutingSnapshot,
  type StatsStore,
  deleteReplicaInfo,
  writeReplicaInfo,
  type OwnReplicaInfo,
} from '@dosrouter/shared';
import type { BreakerBoard } from './breaker-board.js';
import type { InFlightCounts } from './in-flight-counts.js';
import type { WeightsSource, WeightsTable } from './weights-table.js';

export interface ClusterPollerOptions {
  readonly redis: RedisClient;
  readonly keys: RedisKeys;
  readonly replica: string;
  /** This replica's info record, rewritten with every heartbeat (same pipeline, no round trip of its own). */
  readonly info: OwnReplicaInfo;
  readonly deployments: readonly Deployment[];
  readonly breakers: BreakerBoard;
  readonly breakerStore: BreakerStore;
  readonly stats: StatsStore;
  readonly inFlight: InFlightCounts;
  readonly health: RedisHealth;
  readonly intervalMs: number;
  readonly leaseMs: number;
  readonly statsWindowMs: number;
  readonly renewLeases: () => Promise<void>;
  /** Told the live replicas each exchange counted, for the local share of each limit (see ReplicaShare). */
  readonly onReplicas?: (liveReplicas: number) => void;
  readonly weights: WeightsTable;
  /** Called after every tick with the weights' state, for metrics and the one log line on a change. */
  readonly onWeights: (source: WeightsSource, generation: number | undefined) => void;
  readonly logger: Logger;
}

/**
 * The replica's background exchange with Redis, once per interval and never on a request's path: it writes
 * its heartbeat, its in-flight counts and its batched stats, renews its concurrency leases, and reads back the
 * live replicas, cluster-wide in-flight counts, open circuits and rolling stats into the routing snapshot.
 * When Redis fails, the last snapshot stays in use; the next successful tick resyncs everything.
 */
export class ClusterPoller {
  snapshot: RoutingSnapshot;
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;
  private lastLeaseRenewal = 0;
  private deployments: readonly Deployment[];
  private weightedDeployments: readonly WeightedDeployment[];
  /** Work that rides on a successful exchange (the dashboard's recent requests), each failing on its own. */
  private readonly pollTasks: (() => Promise<void>)[] = [];

  constructor(private readonly options: ClusterPollerOptions) {
    this.snapshot = { ...EMPTY_SNAPSHOT, openCircuits: options.breakers.openIds };
    this.deployments = options.deployments;
    this.weightedDeployments = weightedDeployments(options.deployments);
  }

  /** A config reload changed the deployments: the next exchange reads theirs (circuits, stats, passive weights). */
  useDeployments(deployments: readonly Deployment[]): void {
    this.deployments = deployments;
    this.weightedDeployments = weightedDeployments(deployments);
    this.passiveFrom = undefined;
  }

  start(): void {
    this.timer = setInterval(() => void this.tick(), this.options.intervalMs);
    this.timer.unref();
  }

  async stop(): Promise<void> {
    clearInterval(this.timer);
    await this.running;
    // Leave the cluster at once rather than when the heartbeat goes stale.
    const { redis, keys, replica } = this.options;
    await deleteReplicaInfo(redis.pipeline().zrem(keys.replicas(), replica).del(keys.inFlight(replica)), keys, replica)
      .exec()
      .catch(() => undefined);
  }

  /** Runs `task` after every successful exchange, off any request's path; its failure is its own (logged at debug). */
  addPollTask(task: () => Promise<void>): void {
    this.pollTasks.push(task);
  }

  /** One exchange; overlapping ticks are skipped (a slow Redis must not pile them up). */
  tick(): Promise<void> {
    this.running ??= this.exchange().finally(() => (this.running = undefined));
    return this.running;
  }

  private async exchange(): Promise<void> {
    const { redis, keys, replica, intervalMs, health } = this.options;
    const startedAt = Date.now();
    try {
      await this.options.stats.flush();
      const now = Date.now();
      const staleAfterMs = intervalMs * 3;
      const inFlightKey = keys.inFlight(replica);
      const counts = this.options.inFlight.entries();
      const write = redis
        .pipeline()
        .zadd(keys.replicas(), now, replica)
        .zremrangebyscore(keys.replicas(), '-inf', now - staleAfterMs)
        .pexpire(keys.replicas(), staleAfterMs)
        .del(inFlightKey);
      if (counts.length > 0) write.hset(inFlightKey, Object.fromEntries(counts)).pexpire(inFlightKey, staleAfterMs);
      writeReplicaInfo(write, keys, this.options.info.record(health.degraded ? 'degraded' : 'ok', now), staleAfterMs);
      write.zrange(keys.replicas(), '0', '-1');
      const written = (await write.exec()) ?? [];
      const failed = written.find(([error]) => error);
      if (failed) throw failed[0];
      const replicas = (written.at(-1)?.[1] as string[] | undefined) ?? [replica];

      const deploymentIds = this.deployments.map((deployment) => deployment.id);
      const read = redis.pipeline();
      for (const id of replicas) read.hgetall(keys.inFlight(id));
      const [inFlightReplies, open, stats, weightsDocument] = await Promise.all([
        read.exec(),
        this.options.breakerStore.readOpen(deploymentIds),
        this.options.stats.read(deploymentIds, this.options.statsWindowMs),
        redis.get(keys.weightsDocument()),
      ]);
      this.options.weights.offer(weightsDocument);
      const inFlight = new Map<string, number>();
      for (const [error, counts] of inFlightReplies ?? []) {
        if (error) throw error;
        for (const [deploymentId, count] of Object.entries(counts as Record<string, string>)) {
          inFlight.set(deploymentId, (inFlight.get(deploymentId) ?? 0) + Number(count));
        }
      }
      this.options.breakers.syncOpen(open);
      this.snapshot = { ...this.snapshot, inFlight, stats, replicas: Math.max(1, replicas.length) };
      this.options.onReplicas?.(this.snapshot.replicas);
      this.refreshWeights(now);
      if (now - this.lastLeaseRenewal >= this.options.leaseMs / 3) {
        await this.options.renewLeases();
        this.lastLeaseRenewal = now;
      }
      health.markSuccess(startedAt);
      for (const task of this.pollTasks) {
        await task().catch((error: unknown) => this.options.logger.debug('a poll task failed', { error: error instanceof Error ? error.message : String(error) }));
      }
    } catch (error) {
      health.markFailure(error);
      // Redis down: the last table stays in use until it is stale, then configured weights and the last stats read.
      this.refreshWeights(Date.now());
    }
  }

  /**
   * Puts the weights routing should use now into the snapshot (also right after a pub/sub announcement): the
   * prober's table while it is fresh; otherwise configured weights lowered by the cluster's own rolling error rates.
   */
  refreshWeights(now: number): void {
    const { weights } = this.options;
    const source = weights.source(now);
    const current = source === 'prober' ? weights.current(now) : this.passiveWeights();
    if (current !== this.snapshot.weights) this.snapshot = { ...this.snapshot, weights: current };
    this.options.onWeights(source, weights.generation);
  }

  private passiveFrom: RoutingSnapshot['stats'] | undefined;
  private passive: ReadonlyMap<string, number> = new Map();

  /** Recomputed only when the stats were read again, so that routing keeps one map between polls. */
  private passiveWeights(): ReadonlyMap<string, number> {
    if (this.passiveFrom !== this.snapshot.stats) {
      this.passiveFrom = this.snapshot.stats;
      this.passive = passiveWeights(this.weightedDeployments, this.snapshot.stats);
    }
    return this.passive;
  }
}
