import { hostname } from 'node:os';
import { Registry } from 'prom-client';
import type { Queue, Worker } from 'bullmq';
import {
  ConfigError,
  ConfigReloads,
  ModelCatalog,
  RedisKeyStore,
  RedisKeys,
  ROUTING_STATS_WINDOW_MS,
  RedisStats,
  OwnReplicaInfo,
  clientKeysRequired,
  configRevision,
  connectBackgroundRedis,
  connectRedis,
  createLogger,
  hasRedis,
  redisConnectionSettings,
  weightedDeployments,
  type ConfigReloadStatus,
  type GatewayConfig,
  type Logger,
  type ReloadTrigger,
} from '@dosrouter/shared';
import { DeploymentProber } from './deployment-prober.js';
import { probePlans, type ProbePlan } from './probe-plan.js';
import { startProberServer, type ProberServer } from './server/index.js';
import { startProberHeartbeat, type ProberHeartbeat } from './prober-heartbeat.js';
import { configReloadCounter } from './telemetry/config-reload-metric.js';
import { ProberMetrics } from './telemetry/prober-metrics.js';
import { collectProcessMetrics } from './telemetry/process-metrics.js';
import { RedisWeightsStore } from './weights/redis-weights-store.js';
import { WeightsKeeper } from './weights/weights-keeper.js';
import { createProbeQueue, createProbeWorker, reconcileSchedulers, type ProbeWorker, type SchedulerChanges } from './worker/probe-queue.js';
import { redisCircuitCloser } from './worker/redis-circuit-closer.js';

/** Starting (Redis reachable, schedules reconciled) must finish within this. */
const START_DEADLINE_MS = 15_000;
/** On close, probes under way get this long to finish before the worker is closed forcibly. */
const CLOSE_GRACE_MS = 10_000;

/** Resolves true when `work` settles within `ms`, false when it does not (the work goes on, unobserved). */
async function withinMs(work: Promise<unknown>, ms: number): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<false>((resolve) => (timer = setTimeout(() => resolve(false), ms)));
  try {
    return await Promise.race([work.then(() => true, () => true), timeout]);
  } finally {
    clearTimeout(timer);
  }
}

async function deadline<T>(work: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(`${what} took longer than ${ms} ms: is Redis reachable?`)), ms)));
  try {
    return await Promise.race([work, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

export interface ProberOptions {
  readonly config: GatewayConfig;
  readonly logger?: Logger;
  /** This process's id in logs and in the circuit changes it announces; defaults to DOSROUTER_PROBER_ID or hostname-pid. */
  readonly proberId?: string;
  /** Override config.prober.port / host (0 picks a free port). */
  readonly port?: number;
  readonly host?: string;
  /** DOSROUTER_ADMIN_KEY: guards the queue UI and /metrics; without it the UI is off. */
  readonly adminKey?: string;
  /** How a reload reads the config (the entry point's loader); without one, `reloadConfig` refuses. */
  readonly loadConfig?: () => GatewayConfig;
}

export interface RunningProber {
  readonly id: string;
  readonly url: string;
  readonly port: number;
  readonly queue: Queue;
  readonly worker: Worker;
  readonly registry: Registry;
  /** The probe plans of the config running now (a reload replaces them). */
  readonly plans: readonly ProbePlan[];
  /** What the last reconciliation of the schedulers (at start, or at a reload) changed. */
  readonly schedulers: SchedulerChanges;
  /**
   * Reads the config again (`loadConfig`) and, when it is valid, probes by it: the queue's schedulers reconciled
   * (new deployments scheduled, gone ones removed, changed intervals upserted), the weights computed for its
   * deployments, the log level applied. Resolves with the outcome.
   */
  reloadConfig(trigger?: ReloadTrigger): Promise<ConfigReloadStatus>;
  /** The prober's info record (config revision, last reload), written to Redis with its heartbeat. */
  readonly info: OwnReplicaInfo;
  /** Stops taking jobs (a probe under way finishes), then closes the server and the connections. */
  close(): Promise<void>;
}

export function proberId(): string {
  return process.env.DOSROUTER_PROBER_ID || `prober-${hostname()}-${process.pid}`;
}

/**
 * The health prober process: reconciles the probe schedules in BullMQ, works probe jobs (as many processes as
 * wanted, each job run by one), and publishes the weights table the gateways route on.
 */
export async function startProber(options: ProberOptions): Promise<RunningProber> {
  const { config } = options;
  if (!hasRedis(config)) {
    throw new ConfigError('the prober needs Redis (REDIS_URL, redis.url, redis.sentinels or redis.clusterNodes); without Redis the gateway probes in-process');
  }
  const id = options.proberId ?? proberId();
  const logger = options.logger ?? createLogger({ level: config.logging.level, service: 'prober' });
  const keys = new RedisKeys(config.redis.keyPrefix);
  const redisConfig = redisConnectionSettings(config.redis);
  const redis = connectRedis({ ...redisConfig, commandTimeoutMs: Math.max(config.redis.commandTimeoutMs, 2_000) }, `dosrouter-${id}`);
  const queueRedis = connectBackgroundRedis(redisConfig, `dosrouter-${id}-queue`);
  let server: ProberServer | undefined;
  let queue: Queue | undefined;
  let worker: ProbeWorker | undefined;
  let heartbeat: ProberHeartbeat | undefined;
  const info = new OwnReplicaInfo(id, 'prober', configRevision(config), Date.now());
  const close = async (): Promise<void> => {
    try {
      await heartbeat?.stop();
      await server?.close();
      // A probe under way may finish (its timeout bounds it); with Redis gone, BullMQ could wait forever.
      if (worker !== undefined && !(await withinMs(worker.close(), CLOSE_GRACE_MS))) await withinMs(worker.close(true), 1_000);
      if (queue !== undefined) await withinMs(queue.close(), 1_000);
    } finally {
      queueRedis.disconnect();
      redis.disconnect();
    }
  };
  try {
    await redis.connect();
    const planFor = (next: GatewayConfig) => {
      const deployments = new ModelCatalog(next).deployments();
      const { plans, skipped } = probePlans(deployments, next.backends);
      for (const { deploymentId, reason } of skipped) logger.warn('deployment not probed', { deployment: deploymentId, reason });
      return { deployments, plans };
    };
    const { deployments, plans } = planFor(config);

    const registry = new Registry();
    collectProcessMetrics(registry);
    const metrics = new ProberMetrics(registry);
    const stats = new RedisStats(redis, keys);
    const keeper = new WeightsKeeper({
      deployments: weightedDeployments(deployments),
      store: new RedisWeightsStore(redis, keys),
      readStats: (ids) => stats.read(ids, ROUTING_STATS_WINDOW_MS),
    });
    const prober = new DeploymentProber({
      keeper,
      logger,
      metrics,
      closeCircuit: redisCircuitCloser(redis, keys, id),
    });

    queue = createProbeQueue(queueRedis, keys.queuePrefix(), logger);
    const startingQueue = queue;
    // The queue's connection waits for Redis forever (as BullMQ needs): give the start a deadline of its own, so a
    // prober that cannot reach Redis exits and its supervisor restarts it.
    let schedulers = await deadline(reconcileSchedulers(startingQueue, plans, config.prober.recomputeIntervalMs), START_DEADLINE_MS, 'reconciling the probe schedules');
    // A fresh table at once, so gateways know a prober is alive before the first probe completes.
    await prober.recompute();
    worker = createProbeWorker({ connection: queueRedis, prefix: keys.queuePrefix(), plans, prober, concurrency: config.prober.concurrency, logger });
    void worker.run().catch((error: unknown) => logger.error('probe worker stopped', { error: (error as Error).message }));

    // /metrics follows the gateways' rule, so the prober needs to know, as they do, whether the cluster requires keys.
    const keysRequired = await clientKeysRequired(config.auth.mode, options.adminKey, new RedisKeyStore(redis, keys));
    if (keysRequired && !options.adminKey) logger.warn('/metrics is closed: this cluster requires client keys; set DOSROUTER_ADMIN_KEY to scrape it');
    let ready = true;
    server = await startProberServer({
      host: options.host ?? config.prober.host,
      port: options.port ?? config.prober.port,
      registry,
      queues: [queue],
      adminKey: options.adminKey,
      clientKeysRequired: keysRequired,
      logger,
      isReady: () => ready && redis.status === 'ready',
    });
    heartbeat = startProberHeartbeat({ redis, keys, info, intervalMs: config.redis.pollIntervalMs });
    await heartbeat.beat();
    logger.info('prober started', {
      prober: id,
      probed: plans.map((plan) => `${plan.deploymentId} (${plan.settings.kind} every ${plan.settings.intervalMs} ms)`),
      schedulersRemoved: schedulers.removed,
    });
    const running = server;
    const runningQueue = queue;
    const runningWorker = worker;
    let runningConfig = config;
    let runningPlans = plans;
    const reloads = new ConfigReloads({
      load: () => {
        if (!options.loadConfig) throw new Error('this prober was started without a config loader: nothing to reload from');
        return options.loadConfig();
      },
      running: () => runningConfig,
      apply: async (next) => {
        const planned = planFor(next);
        schedulers = await deadline(reconcileSchedulers(runningQueue, planned.plans, next.prober.recomputeIntervalMs), START_DEADLINE_MS, 'reconciling the probe schedules');
        runningWorker.usePlans(planned.plans);
        keeper.useDeployments(weightedDeployments(planned.deployments));
        logger.level = next.logging.level;
        runningConfig = next;
        runningPlans = planned.plans;
        logger.info('probe schedules reconciled', { upserted: schedulers.upserted, removed: schedulers.removed });
      },
      info,
      onResult: configReloadCounter(registry),
      logger,
    });
    return {
      id,
      url: running.url,
      port: running.port,
      queue: runningQueue,
      worker: runningWorker,
      registry,
      get plans() {
        return runningPlans;
      },
      get schedulers() {
        return schedulers;
      },
      reloadConfig: (trigger = 'call') => reloads.reload(trigger),
      info,
      close: async () => {
        ready = false;
        await close();
      },
    };
  } catch (error) {
    await close().catch(() => undefined);
    throw error;
  }
}
