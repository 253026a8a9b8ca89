import {
  MemoryResponseStore,
  RedisKeys,
  RedisResponseStore,
  connectRedis,
  redisConnectionSettings,
  type GatewayConfig,
  type ResponseStore,
} from '@dosrouter/shared';
import type { ClusterState } from '../cluster/cluster-state.js';

/**
 * The store of stored responses for the gateway's mode: this process's memory (embedded), or Redis (cluster) on a
 * connection of its own, so that a response of megabytes never queues ahead of the request path's admissions. Undefined
 * when `responses.store.enabled` is false. Starting without Redis is not a failure: the connection keeps trying, and
 * meanwhile reads answer 503 and writes are logged and dropped.
 */
export async function openResponseStore(config: GatewayConfig, cluster: ClusterState): Promise<ResponseStore | undefined> {
  const settings = config.responses.store;
  if (!settings.enabled) return undefined;
  const ttlMs = settings.ttlSeconds * 1_000;
  if (cluster.mode === 'embedded') {
    return new MemoryResponseStore({ ttlMs, maxBytesPerResponse: settings.maxBytesPerResponse, maxEntries: settings.embedded.maxEntries, maxBytes: settings.embedded.maxBytes });
  }
  const redis = connectRedis({ ...redisConnectionSettings(config.redis), commandTimeoutMs: config.redis.commandTimeoutMs }, `dosrouter-gateway-${cluster.replica}-responses`);
  await redis.connect().catch(() => undefined);
  return new RedisResponseStore(redis, new RedisKeys(config.redis.keyPrefix), { ttlMs, maxBytesPerResponse: settings.maxBytesPerResponse });
}
