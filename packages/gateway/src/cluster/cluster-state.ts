import { hostname } from 'node:os';
import {
  EMPTY_SNAPSHOT,
  MemoryLimiter,
  MemoryStats,
  RedisBreakerStore,
  RedisHealth,
  RedisKeys,
  RedisLimiter,
  ROUTING_STATS_WINDOW_MS,
  RedisStats,
  ReplicaShare,
  ResilientLimiter,
  connectRedis,
  connectSubscriber,
  configRevision,
  hasRedis,
  OwnReplicaInfo,
  redisConnectionSettings,
  weightsOf,
  type Deployment,
  type GatewayConfig,
  type Limiter,
  type Logger,
  type RedisClient,
  type RoutingSnapshot,
  type ScriptCommands,
  type SpendReader,
  type StatsStore,
  type WeightsDocument,
} from '@dosrouter/shared';
import type { GatewayMetrics } from '../telemetry/metrics.js';
import { BreakerBoard } from './breaker-board.js';
import { InFlightCounts } from './in-flight-counts.js';
import { RedisDeploymentSlots, localDeploymentSlots, type DeploymentSlots } from './deployment-slots.js';
import { ClusterPoller } from './cluster-poller.js';
import { LeaseTrackingLimiter } from './lease-tracking-limiter.js';
import { WeightsTable, type WeightsSource } from './weights-table.js';
import { embeddedReplicaDirectory, redisReplicaDirectory, type ReplicaDirectory } from './replica-info.js';

/**
 * Everything one replica shares with the others, behind one shape for both modes: embedded (in memory, one
 * process) and cluster (Redis). Request handling reads `snapshot()` (never waits on Redis) and calls the
 * limiter once per request when limits apply.
 */
export interface ClusterState {
  readonly mode: 'embedded' | 'cluster';
  readonly replica: string;
  readonly limiter: Limiter;
  readonly stats: StatsStore;
  readonly breakers: BreakerBoard;
  readonly inFlight: InFlightCounts;
  /** Where deployments' `maxConcurrent` slots are counted: this process, or every replica through Redis. */
  readonly deploymentSlots: DeploymentSlots;
  /** Present in cluster mode. */
  readonly health?: RedisHealth;
  /** Cluster mode: the replica's Redis connection, for the other shared stores (API keys). */
  readonly redis?: RedisClient & ScriptCommands;
  /** This replica's info record (id, version, config revision, …) and the cluster's live ones. */
  readonly replicas: ReplicaDirectory;
  snapshot(): RoutingSnapshot;
  /** Cluster mode: the key layout, for the stores that read other replicas' records (the dashboard). */
  readonly keys?: RedisKeys;
  /** The prober's last weights document (health states, when published): Redis's, or the embedded prober's. */
  weightsDocument?(): WeightsDocument | undefined;
  /** Cluster mode: runs `task` after each successful poll (never on a request's path). */
  addPollTask?(task: () => Promise<void>): void;
  /** A config reload changed the deployments: circuits, rolling stats and in-flight reads follow them. */
  useDeployments(deployments: readonly Deployment[]): void;
  /** Embedded mode: routes on a table the in-process prober computed. (Cluster mode reads the prober's from Redis.) */
  useWeights?(document: WeightsDocument): void;
  close(): Promise<void>;
}

export interface ClusterStateOptions {
  readonly config: GatewayConfig;
  readonly deployments: readonly Deployment[];
  readonly logger: Logger;
  readonly metrics: GatewayMetrics;
  readonly replica?: string;
  /** Where budgets read spend without Redis: the memory ledger (embedded), or what admissions returned (fallback). */
  readonly spend?: SpendReader;
}

export function replicaId(): string {
  return process.env.DOSROUTER_REPLICA_ID || `${hostname()}-${process.pid}`;
}

export async function createClusterState(options: ClusterStateOptions): Promise<ClusterState> {
  return hasRedis(options.config) ? createRedisState(options) : createEmbeddedState(options);
}

function breakerStateReporter(metrics: GatewayMetrics) {
  return (deploymentId: string, state: 'closed' | 'open' | 'half_open'): void => metrics.recordCircuitState(deploymentId, state);
}

function ownInfo(config: GatewayConfig, replica: string): OwnReplicaInfo {
  return new OwnReplicaInfo(replica, 'gateway', configRevision(config), Date.now());
}

function createEmbeddedState({ config, deployments, logger, metrics, replica = replicaId(), spend }: ClusterStateOptions): ClusterState {
  const breakers = new BreakerBoard(deployments, replica, undefined, logger, breakerStateReporter(metrics));
  const inFlight = new InFlightCounts();
  const stats = new MemoryStats(Date.now);
  let snapshot: RoutingSnapshot = { ...EMPTY_SNAPSHOT, inFlight: inFlight.counts, openCircuits: breakers.openIds };
  // The rolling stats (latency, time to first token, error rate) reach the snapshot at the cluster poll's cadence,
  // as in cluster mode: routing reads a summary, never the buckets.
  let ids = deployments.map((deployment) => deployment.id);
  const refreshStats = (): void => {
    stats.read(ids, ROUTING_STATS_WINDOW_MS).then((summary) => {
      snapshot = { ...snapshot, stats: summary };
    }, () => undefined);
  };
  const statsTimer = setInterval(refreshStats, config.redis.pollIntervalMs);
  statsTimer.unref();
  let published: WeightsDocument | undefined;
  return {
    mode: 'embedded',
    replica,
    limiter: new MemoryLimiter(Date.now, () => 1, spend),
    stats,
    breakers,
    inFlight,
    deploymentSlots: localDeploymentSlots,
    replicas: embeddedReplicaDirectory(ownInfo(config, replica)),
    snapshot: () => snapshot,
    useDeployments: (next) => {
      breakers.useDeployments(next);
      ids = next.map((deployment) => deployment.id);
    },
    useWeights: (document) => {
      published = document;
      snapshot = { ...snapshot, weights: weightsOf(document) };
      metrics.recordWeights(false, document.generation);
    },
    // Its health states for the dashboard, kept in memory as they were published.
    weightsDocument: () => published,
    close: async () => {
      clearInterval(statsTimer);
      breakers.shutdown();
    },
  };
}

async function createRedisState({ config, deployments, logger, metrics, replica = replicaId(), spend }: ClusterStateOptions): Promise<ClusterState> {
  const keys = new RedisKeys(config.redis.keyPrefix);
  const redis = connectRedis(
    { ...redisConnectionSettings(config.redis), commandTimeoutMs: config.redis.commandTimeoutMs },
    `dosrouter-gateway-${replica}`,
  );
  const subscriber = connectSubscriber(redis, `dosrouter-gateway-${replica}-events`);
  // An error Redis answered with is a bug, not an outage: logged at most once a minute, whatever the traffic.
  const health = new RedisHealth(Date.now, 1_000, (error, failures) =>
    logger.error('a Redis command failed with an error of its own: a bug, not an outage; the replica stays on Redis', {
      failures,
      error: error instanceof Error ? error.message : String(error),
    }),
  );
  health.onChange((degraded, cause) => {
    metrics.recordDegraded(degraded);
    if (degraded) {
      logger.warn('degraded: Redis is unreachable; routing on the last snapshot, limits enforced per replica', {
        failMode: config.redis.failMode,
        error: cause instanceof Error ? cause.message : String(cause),
      });
    } else {
      logger.info('Redis is back: shared state resynced');
    }
  });
  const breakerStore = new RedisBreakerStore(redis, subscriber, keys);
  const breakers = new BreakerBoard(deployments, replica, breakerStore, logger, breakerStateReporter(metrics));
  const inFlight = new InFlightCounts();
  const stats = new RedisStats(redis, keys);
  // While Redis is down, each replica enforces its share of every limit, by the most live replicas seen lately.
  const replicaShare = new ReplicaShare(Date.now);
  const fallback = new MemoryLimiter(Date.now, () => replicaShare.share(), spend);
  const limiter = new LeaseTrackingLimiter(
    new ResilientLimiter(new RedisLimiter(redis, keys, config.limits.leaseMs), fallback, health, {
      failMode: config.redis.failMode,
      onTimeout: {
        rateLimits: config.limits.onRedisTimeout.rateLimits ?? (config.redis.failMode === 'open' ? 'local' : 'refuse'),
        budgets: config.limits.onRedisTimeout.budgets,
      },
    }),
  );
  const weights = new WeightsTable(config.weights.staleAfterMs);
  let lastWeightsSource: WeightsSource = 'configured';
  const onWeights = (source: WeightsSource, generation: number | undefined): void => {
    metrics.recordWeights(source === 'stale', generation);
    if (source === lastWeightsSource) return;
    if (source === 'stale') logger.warn('the prober’s weights are stale: routing on configured weights', { generation, staleAfterMs: config.weights.staleAfterMs });
    else logger.info('routing on the prober’s weights', { generation });
    lastWeightsSource = source;
  };
  const info = ownInfo(config, replica);
  const poller: ClusterPoller = new ClusterPoller({
    redis,
    keys,
    replica,
    info,
    deployments,
    breakers,
    breakerStore,
    stats,
    inFlight,
    health,
    intervalMs: config.redis.pollIntervalMs,
    leaseMs: config.limits.leaseMs,
    statsWindowMs: ROUTING_STATS_WINDOW_MS,
    renewLeases: () => limiter.renew(),
    onReplicas: (liveReplicas) => replicaShare.observe(liveReplicas),
    weights,
    onWeights,
    logger,
  });

  // A new weights table is announced with the document itself: apply it at once, not at the next poll.
  subscriber.on('message', (channel: string, message: string) => {
    if (channel === keys.weightsChannel() && weights.offer(message)) poller.refreshWeights(Date.now());
  });
  let subscribed = false;
  const subscribe = async (): Promise<void> => {
    if (subscribed) return;
    await breakerStore.subscribe((event) => breakers.apply(event));
    await subscriber.subscribe(keys.weightsChannel());
    subscribed = true; // ioredis re-subscribes by itself after later reconnects
  };
  // Starting without Redis is a degraded start, not a failure: traffic flows, and once Redis answers the state
  // syncs and the subscriptions are made.
  health.onChange((degraded) => {
    if (!degraded) subscribe().catch(() => undefined);
  });
  try {
    await redis.connect();
    await subscribe();
  } catch (error) {
    health.markFailure(error);
  }
  await poller.tick();
  poller.start();
  const deploymentSlots = new RedisDeploymentSlots({ redis, keys, replica, intervalMs: config.redis.pollIntervalMs, replicas: () => poller.snapshot.replicas, health });

  return {
    mode: 'cluster',
    replica,
    limiter,
    stats,
    breakers,
    inFlight,
    deploymentSlots,
    health,
    redis,
    replicas: redisReplicaDirectory(info, redis, keys, health),
    keys,
    snapshot: () => poller.snapshot,
    weightsDocument: () => weights.published,
    addPollTask: (task) => poller.addPollTask(task),
    useDeployments: (next) => {
      breakers.useDeployments(next);
      poller.useDeployments(next);
    },
    close: async () => {
      await deploymentSlots.close();
      await poller.stop();
      breakers.shutdown();
      await breakerStore.close();
      redis.disconnect();
    },
  };
}
