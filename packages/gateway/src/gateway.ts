import { createServer, type Server } from 'node:http';
import { createServer as createHttpsServer, type Server as HttpsServer } from 'node:https';
import type { Duplex } from 'node:stream';
import type { AddressInfo } from 'node:net';
import { performance } from 'node:perf_hooks';
import { ProberMetrics, configReloadCounter, startEmbeddedProbing, type EmbeddedProber } from '@dosrouter/health-prober';
import {
  ConfigReloads,
  ROUTING_STATS_WINDOW_MS,
  RedisKeyStore,
  RedisKeys,
  RedisUsageLedger,
  UsageAggregator,
  clientKeysRequired,
  connectRedis,
  createLogger,
  hasRedis,
  loggerDestination,
  openEmbeddedStorage,
  redisConnectionSettings,
  type ConfigReloadStatus,
  type EmbeddedStorage,
  type GatewayConfig,
  type KeyStore,
  type Logger,
  type RandomSource,
  type ReloadTrigger,
  type SpendReader,
  type Strategy,
  type UsageLedger,
} from '@dosrouter/shared';
import { SpendObservations } from './usage/spend-observations.js';
import { UsageRecorder } from './usage/usage-recorder.js';
import { KeyAuthenticator } from './auth/key-authenticator.js';
import type { AppDependencies } from './app.js';
import { createApp } from './app.js';
import { DashboardData } from './dashboard/dashboard-data.js';
import { flushRecentRequests } from './dashboard/recent-requests-store.js';
import { RecentRequests } from './dashboard/recent-requests.js';
import { responseCacheFor } from './cache/response-cache.js';
import { createClusterState, type ClusterState } from './cluster/cluster-state.js';
import { InFlightTracker } from './lifecycle/in-flight.js';
import { answerBadRequest } from './lifecycle/bad-request.js';
import { continueWhenBodyIsRead } from './lifecycle/expect-continue.js';
import { lingerOnUnreadBodies } from './lifecycle/lingering-close.js';
import { readTlsPair, reloadTlsOnChange } from './lifecycle/tls-files.js';
import { Readiness } from './lifecycle/readiness.js';
import { AccessLog } from './telemetry/access-log.js';
import { GatewayMetrics } from './telemetry/metrics.js';
import { DeploymentSaturation } from './saturation/deployment-saturation.js';
import { KeyConcurrency } from './saturation/key-concurrency.js';
import { ReplicaSaturation } from './saturation/replica-saturation.js';
import { openResponseStore } from './responses/open-response-store.js';
import { StoredResponses } from './responses/stored-responses.js';
import { loadTracing } from './telemetry/tracing/start-tracing.js';
import { ConfigSnapshot } from './reload/config-snapshot.js';
import { LiveConfig } from './reload/live-config.js';

export interface GatewayOptions {
  readonly config: GatewayConfig;
  readonly logger?: Logger;
  /** Defaults to Math.random; tests inject a seeded source. */
  readonly random?: RandomSource;
  /** Overrides config.server.port (0 picks a free port). */
  readonly port?: number;
  /** Overrides config.server.tls.port. */
  readonly tlsPort?: number;
  readonly host?: string;
  /** This replica's id; defaults to DOSROUTER_REPLICA_ID or hostname-pid. */
  readonly replica?: string;
  /** Routing strategies added in code, on top of the built-ins and `routing.strategyModules`. */
  readonly strategies?: readonly Strategy[];
  /** Enables the admin API; defaults to DOSROUTER_ADMIN_KEY. */
  readonly adminKey?: string;
  /**
   * How a reload reads the config: the entry point's loader (the file, interpolation, `*_FILE` secrets, environment
   * overrides). Without one, `reloadConfig` has nothing to read and refuses.
   */
  readonly loadConfig?: () => GatewayConfig;
}

export interface RunningGateway {
  /** e.g. http://127.0.0.1:8080; the HTTPS URL when plain HTTP is off. */
  readonly url: string;
  /** The plain-HTTP port, or the HTTPS one when plain HTTP is off. */
  readonly port: number;
  /** e.g. https://127.0.0.1:8443, with server.tls. */
  readonly httpsUrl?: string;
  /** Every listening server: plain HTTP and/or HTTPS. */
  readonly servers: readonly (Server | HttpsServer)[];
  readonly metrics: GatewayMetrics;
  readonly readiness: Readiness;
  readonly logger: Logger;
  readonly cluster: ClusterState;
  /** The config snapshot new requests take (its backends: their pools and connection gates); a reload swaps it. */
  readonly live: LiveConfig;
  /**
   * Reads the config again (`loadConfig`) and, when it is valid, swaps it in; requests in flight finish on theirs.
   * Resolves with the outcome (also in the replica's info record and `dosrouter_config_reloads_total`).
   */
  reloadConfig(trigger?: ReloadTrigger): Promise<ConfigReloadStatus>;
  /** The Responses API's stored responses (memory or Redis, by mode). */
  readonly responses: StoredResponses;
  /**
   * Drains and stops: not ready at once, no new connections, in-flight requests and streams get `graceMs`
   * (default config.server.shutdownGraceMs) to finish, then remaining connections are cut and backends closed.
   * Resolves true when everything finished within the grace period.
   */
  close(graceMs?: number): Promise<boolean>;
}

/** The longest a shutdown waits for cut requests' handlers to write their usage records. */
const HANDLERS_SETTLE_MS = 5_000;

export async function startGateway(options: GatewayOptions): Promise<RunningGateway> {
  const { config } = options;
  const logger = options.logger ?? createLogger({ level: config.logging.level, service: 'gateway' });
  const clock = (): number => performance.now();
  const startTracer = await loadTracing(config.telemetry.tracing);
  const metrics = new GatewayMetrics();
  const readiness = new Readiness();
  const strategies = options.strategies ?? [];
  const live = new LiveConfig(await ConfigSnapshot.build(config, strategies));
  const { catalog } = live.current;
  // Embedded mode keeps keys and usage in the data directory (storage.dataDir) or in memory; cluster mode in Redis.
  const storage = hasRedis(config) ? undefined : await openEmbeddedStorage({ dataDir: config.storage.dataDir, retentionDays: config.usage.retentionDays, logger });
  // Budgets read spend without Redis from the embedded ledger or from what admissions returned (cluster).
  const embeddedLedger = storage?.ledger;
  const spendObservations = embeddedLedger ? undefined : new SpendObservations();
  const spend = embeddedLedger ?? spendObservations!;
  const cluster = await createClusterState({ config, deployments: catalog.deployments(), logger, metrics, replica: options.replica, spend });
  const usage = startUsage(config, cluster, embeddedLedger, spendObservations, metrics, logger);
  const responses = new StoredResponses(await openResponseStore(config, cluster), logger, metrics.registry);

  const adminKey = options.adminKey ?? (process.env.DOSROUTER_ADMIN_KEY || undefined);
  const keys = await clientKeys(config, cluster, storage, adminKey, logger);
  const accessLog = config.logging.accessLog ? AccessLog.forLogger(logger, loggerDestination(logger), 'gateway') : undefined;
  const tracer = startTracer?.({ replica: cluster.replica, logger, clock });
  // Handlers still settling a request when its connection was cut (a broken stream's usage): shutdown waits for them.
  const handlers = new InFlightTracker();
  const deploymentSaturation = new DeploymentSaturation(catalog.deployments(), cluster.deploymentSlots, config.saturation, metrics, clock);
  const dashboard = startDashboard(config, cluster, live, adminKey, keys?.store, usage?.ledger, clock);
  const responseCache = responseCacheFor(config, cluster, metrics, logger);
  const { listener } = createApp({
    ...(dashboard ? { dashboard } : {}),
    handlers,
    saturation: new ReplicaSaturation(config.saturation, metrics, clock),
    deploymentSaturation,
    // Cluster mode: slots freed on other replicas are seen by polling the key's leases, 5 ms doubling to 100 ms.
    keyConcurrency: new KeyConcurrency(cluster.limiter, config.saturation, metrics, clock, hasRedis(config) ? [5, Math.min(100, config.redis.pollIntervalMs)] : undefined),
    config,
    live,
    logger,
    readiness,
    metrics,
    keys,
    adminKey,
    cluster,
    random: options.random ?? Math.random,
    clock,
    startedAtSeconds: Math.floor(Date.now() / 1000),
    accessLog,
    spend,
    responses,
    ...(spendObservations ? { spendObservations } : {}),
    ...(usage ? { usage: usage.recorder, usageLedger: usage.ledger } : {}),
    ...(tracer ? { tracer } : {}),
    ...(responseCache ? { responseCache } : {}),
  });
  const serverOptions = {
    maxHeaderSize: config.server.maxHeaderBytes,
    headersTimeout: config.server.headersTimeoutMs,
    requestTimeout: config.server.requestTimeoutMs,
    keepAliveTimeout: config.server.keepAliveTimeoutMs,
  };
  const { tls } = config.server;
  const httpServer = config.server.http ? createServer(serverOptions, listener) : undefined;
  const httpsServer = tls ? createHttpsServer({ ...serverOptions, ...readTlsPair(tls) }, listener) : undefined;
  const servers = [httpServer, httpsServer].filter((server) => server !== undefined);
  const inFlight = new InFlightTracker();
  const { lingeringClose } = config.server;
  for (const server of servers) {
    inFlight.attach(server as Server);
    lingerOnUnreadBodies(server as Server, lingeringClose);
    continueWhenBodyIsRead(server as Server);
    server.on('clientError', (error: NodeJS.ErrnoException, socket: Duplex) => answerBadRequest(error, socket, lingeringClose));
  }

  const host = options.host ?? config.server.host;
  const listen = (server: Server | HttpsServer, port: number): Promise<number> =>
    new Promise<number>((resolve, reject) => {
      server.once('error', reject);
      server.listen({ port, host, backlog: config.server.listenBacklog }, () => {
        server.off('error', reject);
        resolve((server.address() as AddressInfo).port);
      });
    });
  const httpPort = httpServer ? await listen(httpServer, options.port ?? config.server.port) : undefined;
  const httpsPort = httpsServer && tls ? await listen(httpsServer, options.tlsPort ?? tls.port) : undefined;
  const stopTlsReload = httpsServer && tls ? reloadTlsOnChange(httpsServer, tls, tls.reloadIntervalMs, logger) : undefined;
  // Probing starts once the gateway is up: nothing of it is left running if listening failed.
  // Made once, with the first embedded prober: every prober a reload starts counts on the same metrics.
  let proberMetrics: ProberMetrics | undefined;
  const metricsForProber = (): ProberMetrics => (proberMetrics ??= new ProberMetrics(metrics.registry));
  let embeddedProber = startEmbeddedProber(live.current, cluster, metricsForProber, logger);
  const reloads = new ConfigReloads({
    load: () => {
      if (!options.loadConfig) throw new Error('this gateway was started without a config loader: nothing to reload from');
      return options.loadConfig();
    },
    running: () => live.current.config,
    apply: async (next) => {
      const previous = live.current;
      const snapshot = await ConfigSnapshot.build(next, strategies, previous);
      if (closing !== undefined) {
        // Stopping meanwhile: nothing new goes into service, and what was built is not left running.
        await snapshot.backends.destroy([previous.backends]);
        throw new Error('the gateway is stopping');
      }
      // From here on nothing throws: the swap, then everything that follows the deployments (the embedded prober's
      // restart waits for its probes under way).
      live.swap(snapshot);
      const deployments = snapshot.catalog.deployments();
      cluster.useDeployments(deployments);
      deploymentSaturation.useDeployments(deployments);
      logger.level = next.logging.level;
      const rebuilt = snapshot.backends.changedSince(previous.backends);
      // A rebuilt backend (its timeouts changed, say) may be elsewhere: an in-process simulator listens on a new port.
      if (probingChanged(previous.config, next) || rebuilt.replaced.length > 0) {
        // The old one's last probes finish first, so that its tables never follow the new one's.
        await embeddedProber?.close();
        // Stopping meanwhile: close() has closed (or is closing) the old one and would never close a new one.
        if (closing === undefined) embeddedProber = startEmbeddedProber(snapshot, cluster, metricsForProber, logger);
      }
      logger.info('config in service', {
        models: snapshot.catalog.models().map((model) => model.name),
        backends: rebuilt,
      });
    },
    info: cluster.replicas.own,
    onResult: configReloadCounter(metrics.registry),
    logger,
  });
  readiness.markReady();
  const displayHost = host === '0.0.0.0' || host === '::' ? '127.0.0.1' : host;

  let closing: Promise<boolean> | undefined;
  const close = (graceMs = config.server.shutdownGraceMs): Promise<boolean> => {
    closing ??= (async () => {
      readiness.markDraining();
      inFlight.startDraining();
      stopTlsReload?.();
      const closed = Promise.all(servers.map((server) => new Promise<void>((resolve) => server.close(() => resolve()))));
      for (const server of servers) server.closeIdleConnections();
      const finished = await inFlight.whenIdle(graceMs);
      for (const server of servers) server.closeAllConnections();
      await closed;
      // Cut requests' handlers write their usage records (aborting an attempt settles what it used) before the
      // recorder closes; they have nothing left to wait on, so this is short.
      await handlers.whenIdle(HANDLERS_SETTLE_MS);
      await embeddedProber?.close();
      dashboard?.data.close();
      // Answers have ended: their records are written (or reported lost) before the connections close.
      await usage?.close();
      // The last requests' spans: exported within a bound (a collector that is down does not hold the drain).
      await tracer?.shutdown();
      await keys?.store.close();
      await responses.close();
      await storage?.close();
      await responseCache?.close();
      await cluster.close();
      await live.close();
      accessLog?.flush();
      return finished;
    })();
    return closing;
  };

  const hostPart = displayHost.includes(':') ? `[${displayHost}]` : displayHost;
  const httpsUrl = httpsPort === undefined ? undefined : `https://${hostPart}:${httpsPort}`;
  const url = httpPort === undefined ? httpsUrl! : `http://${hostPart}:${httpPort}`;
  return {
    url,
    port: httpPort ?? httpsPort!,
    ...(httpsUrl ? { httpsUrl } : {}),
    servers,
    metrics,
    readiness,
    logger,
    cluster,
    live,
    responses,
    reloadConfig: (trigger = 'call') => reloads.reload(trigger),
    close,
  };
}

/**
 * The dashboard's recent-requests ring and data, with an admin key and `dashboard.enabled`; in cluster mode the ring's
 * new entries are copied to Redis by the cluster poll, off every request's path.
 */
function startDashboard(
  config: GatewayConfig,
  cluster: ClusterState,
  live: LiveConfig,
  adminKey: string | undefined,
  keys: KeyStore | undefined,
  ledger: UsageLedger | undefined,
  clock: () => number,
): { recent: RecentRequests; data: DashboardData } | undefined {
  if (!adminKey || !config.dashboard.enabled) return undefined;
  const recent = new RecentRequests({
    capacity: config.dashboard.recentRequests,
    replica: cluster.replica,
    includePrompts: config.dashboard.includePrompts,
    clock,
    wallClock: Date.now,
  });
  const { redis, keys: redisKeys } = cluster;
  if (redis && redisKeys) cluster.addPollTask?.(() => flushRecentRequests(redis, redisKeys, cluster.replica, recent));
  const data = new DashboardData({
    cluster,
    // The deployments of the config serving now: a reload's new ones appear, removed ones go.
    deployments: () => live.current.catalog.deployments(),
    recent,
    ...(keys ? { keys } : {}),
    ...(ledger ? { ledger } : {}),
    perKeyLimits: config.limits.perKey,
    wallClock: Date.now,
  });
  return { recent, data };
}

/**
 * The client-key store and its authenticator, or undefined when the gateway runs open. `auth.mode: auto` requires
 * keys whenever an admin key is set (keys can then be created); otherwise it runs open, and says so loudly: anyone
 * who can reach the port can spend the backends' credit.
 */
async function clientKeys(
  config: GatewayConfig,
  cluster: ClusterState,
  storage: EmbeddedStorage | undefined,
  adminKey: string | undefined,
  logger: Logger,
): Promise<AppDependencies['keys']> {
  const redisStore = cluster.redis ? new RedisKeyStore(cluster.redis, new RedisKeys(config.redis.keyPrefix)) : undefined;
  const required = await clientKeysRequired(config.auth.mode, adminKey, redisStore);
  if (required && config.auth.mode === 'auto' && !adminKey) {
    logger.warn('this cluster has API keys in Redis: requiring them, although DOSROUTER_ADMIN_KEY is not set on this replica');
  }
  if (!required) {
    await redisStore?.close();
    logger.warn('OPEN MODE: no API key is required on this gateway; anyone who can reach it can use its backends. Set DOSROUTER_ADMIN_KEY (or auth.mode: keys) to require keys.', { authMode: config.auth.mode });
    return undefined;
  }
  const store: KeyStore = redisStore ?? storage!.keys;
  if (!adminKey) logger.warn('API keys are required but DOSROUTER_ADMIN_KEY is not set: the admin API is off, so keys cannot be created here');
  return { store, authenticator: new KeyAuthenticator(store) };
}

/** The longest the usage consumer waits for new records per read. */
const USAGE_BLOCK_MS = 1_000;

interface RunningUsage {
  readonly ledger: UsageLedger;
  readonly recorder: UsageRecorder;
  close(): Promise<void>;
}

/**
 * Usage records: the recorder that writes them (to memory, or the Redis stream) and, in cluster mode, this replica's
 * consumer of the stream, which counts records into the daily totals on its own connection.
 */
function startUsage(
  config: GatewayConfig,
  cluster: ClusterState,
  embeddedLedger: (UsageLedger & SpendReader) | undefined,
  spendObservations: SpendObservations | undefined,
  metrics: GatewayMetrics,
  logger: Logger,
): RunningUsage | undefined {
  if (!config.usage.enabled) {
    logger.warn('usage recording is off (usage.enabled: false): no usage records, and API keys’ budgets are not enforced');
    return undefined;
  }
  const keys = new RedisKeys(config.redis.keyPrefix);
  const ledger = embeddedLedger ?? new RedisUsageLedger(cluster.redis!, keys);
  const recorder = new UsageRecorder({
    ledger,
    metrics,
    logger,
    commitTimeoutMs: config.usage.commitTimeoutMs,
    spoolLimit: config.usage.spoolLimit,
    inMemory: embeddedLedger !== undefined,
    ...(spendObservations ? { onRecord: (record) => spendObservations.add(record) } : {}),
  });
  let aggregator: UsageAggregator | undefined;
  if (!embeddedLedger && config.usage.aggregate) {
    aggregator = new UsageAggregator({
      // Its own connection: a blocked read must not hold up the request path's commands. Every command has a
      // deadline past the longest block, so a half-open connection cannot stall the consumer.
      redis: connectRedis({ ...redisConnectionSettings(config.redis), commandTimeoutMs: USAGE_BLOCK_MS + 5_000 }, `dosrouter-gateway-${cluster.replica}-usage`),
      blockMs: USAGE_BLOCK_MS,
      keys,
      consumer: cluster.replica,
      logger,
      claimIdleMs: config.usage.claimIdleMs,
      claimIntervalMs: Math.min(5_000, config.usage.claimIdleMs),
      dedupeSeconds: config.usage.dedupeSeconds,
      retentionDays: config.usage.retentionDays,
      onCounted: (counted, duplicates, malformed) => metrics.recordUsageAggregated(counted, duplicates, malformed),
    });
    aggregator.start();
  }
  return {
    ledger,
    recorder,
    close: async () => {
      await recorder.close();
      await aggregator?.stop();
    },
  };
}

/** Whether a reload changes what the embedded prober probes, or how: then it is started again on the new config. */
function probingChanged(running: GatewayConfig, next: GatewayConfig): boolean {
  const probing = (config: GatewayConfig): string => JSON.stringify([config.backends, config.prober, config.breakers, config.weights]);
  return probing(running) !== probing(next);
}

/** Embedded mode: the prober's code on timers in this process, its tables applied straight to the routing snapshot. */
function startEmbeddedProber(snapshot: ConfigSnapshot, cluster: ClusterState, metrics: () => ProberMetrics, logger: Logger): EmbeddedProber | undefined {
  const { useWeights } = cluster;
  const { config, catalog, backends } = snapshot;
  if (cluster.mode !== 'embedded' || !config.prober.embedded || useWeights === undefined) return undefined;
  return startEmbeddedProbing({
    config,
    deployments: catalog.deployments(),
    baseUrlOf: (backend) => backends.get(backend.name).baseUrl,
    readStats: (ids) => cluster.stats.read(ids, ROUTING_STATS_WINDOW_MS),
    onPublish: (update) => useWeights(update.document),
    closeCircuit: async (deploymentId, probeStartedAt) => cluster.breakers.closeAfterProbe(deploymentId, probeStartedAt),
    metrics: metrics(),
    logger,
  });
}
