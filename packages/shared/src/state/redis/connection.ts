import { Cluster, Redis, type RedisOptions } from 'ioredis';
import { registerScripts, type ScriptCommands } from './scripts.js';

/** A connection to one Redis (directly or through Sentinel) or to a Redis Cluster: the stores accept either. */
export type RedisClient = Redis | Cluster;

export interface RedisConnectionConfig {
  /** redis://[user:password@]host:port[/db] or rediss:// for TLS. Ignored when `sentinels` is set. */
  readonly url?: string;
  /** Redis Sentinel: the sentinels to ask, and the master's name. */
  readonly sentinels?: readonly { host: string; port: number }[];
  readonly sentinelMasterName?: string;
  readonly sentinelPassword?: string;
  /** Redis Cluster: some of its nodes; the rest are discovered. */
  readonly clusterNodes?: readonly { host: string; port: number }[];
  /** Password for the master (Sentinel setups; with a URL, put it in the URL). */
  readonly password?: string;
  /** Every command's deadline: past it the command fails and the caller falls back (degraded mode). */
  readonly commandTimeoutMs: number;
}

/**
 * A connection for commands on a request's path: it never queues while disconnected (a command fails at once,
 * so the caller can fall back) and never waits past the deadline, but it keeps reconnecting in the background.
 */
export function connectRedis(config: RedisConnectionConfig, connectionName: string): RedisClient & ScriptCommands {
  const options: RedisOptions = {
    connectionName,
    enableOfflineQueue: false,
    maxRetriesPerRequest: 0,
    commandTimeout: config.commandTimeoutMs,
    connectTimeout: 2_000,
    // Reconnect forever, backing off to one attempt every 2 s.
    retryStrategy: (attempt) => Math.min(100 * attempt, 2_000),
    lazyConnect: true,
    // Commands issued in the same tick (admissions and releases of concurrent requests) share one write.
    enableAutoPipelining: true,
  };
  if (config.clusterNodes?.length) {
    const cluster = new Cluster(
      config.clusterNodes.map((node) => ({ ...node })),
      {
        lazyConnect: true,
        enableOfflineQueue: false,
        enableAutoPipelining: true,
        clusterRetryStrategy: (attempt) => Math.min(100 * attempt, 2_000),
        redisOptions: {
          connectionName,
          password: config.password,
          commandTimeout: config.commandTimeoutMs,
          maxRetriesPerRequest: 0,
          connectTimeout: 2_000,
        },
      },
    );
    cluster.on('error', () => undefined);
    return registerScripts(cluster);
  }
  return registerScripts(connectSingle(config, options));
}

/** One Redis, by URL or through Sentinel, with the given connection options. */
function connectSingle(config: Omit<RedisConnectionConfig, 'commandTimeoutMs'>, options: RedisOptions): Redis {
  const redis = config.sentinels?.length
    ? new Redis({
        ...options,
        sentinels: config.sentinels.map((sentinel) => ({ ...sentinel })),
        name: config.sentinelMasterName ?? 'mymaster',
        password: config.password,
        sentinelPassword: config.sentinelPassword,
      })
    : new Redis(config.url ?? 'redis://127.0.0.1:6379', options);
  // Errors surface on the commands that fail; the connection's own error events would otherwise be unhandled.
  redis.on('error', () => undefined);
  return redis;
}

/** A second connection in subscriber mode, for pub/sub (a subscribed connection cannot run other commands). */
export function connectSubscriber(commands: RedisClient, connectionName: string): RedisClient {
  const subscriber =
    commands instanceof Cluster
      ? commands.duplicate([], { enableOfflineQueue: true, lazyConnect: true, redisOptions: { ...commands.options.redisOptions, connectionName, commandTimeout: undefined } })
      : commands.duplicate({ connectionName, enableOfflineQueue: true, commandTimeout: undefined, lazyConnect: true });
  subscriber.on('error', () => undefined);
  return subscriber;
}

/**
 * A connection for background work that may wait, such as BullMQ's queues and workers: commands queue while
 * disconnected and are retried (BullMQ requires `maxRetriesPerRequest: null` for its blocking commands), and no
 * command has a deadline (a worker blocks on the queue for seconds at a time). Never use it on a request's path.
 */
export function connectBackgroundRedis(config: Omit<RedisConnectionConfig, 'commandTimeoutMs'>, connectionName: string): RedisClient {
  const retryStrategy = (attempt: number): number => Math.min(100 * attempt, 2_000);
  if (config.clusterNodes?.length) {
    const cluster = new Cluster(
      config.clusterNodes.map((node) => ({ ...node })),
      {
        clusterRetryStrategy: retryStrategy,
        redisOptions: { connectionName, password: config.password, maxRetriesPerRequest: null, connectTimeout: 2_000 },
      },
    );
    cluster.on('error', () => undefined);
    return cluster;
  }
  return connectSingle(config, { connectionName, maxRetriesPerRequest: null, connectTimeout: 2_000, retryStrategy });
}

/** The connection settings of a config's `redis` section, without the command deadline. */
export function redisConnectionSettings(redis: {
  url?: string;
  sentinels?: { host: string; port: number }[];
  sentinelMasterName?: string;
  sentinelPassword?: string;
  clusterNodes?: { host: string; port: number }[];
  password?: string;
}): Omit<RedisConnectionConfig, 'commandTimeoutMs'> {
  return {
    url: redis.url,
    sentinels: redis.sentinels,
    sentinelMasterName: redis.sentinelMasterName,
    sentinelPassword: redis.sentinelPassword,
    clusterNodes: redis.clusterNodes,
    password: redis.password,
  };
}
