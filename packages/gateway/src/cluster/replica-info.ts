import { readReplicaInfos, type OwnReplicaInfo, type RedisClient, type RedisHealth, type RedisKeys, type ReplicaInfo } from '@dosrouter/shared';

/**
 * Who runs in the cluster: this replica's own record (written by the cluster poll's heartbeat, no round trip of its
 * own) and a reader of every live gateway replica's and prober's record, for `/readyz/detail` and the dashboard.
 */
export interface ReplicaDirectory {
  readonly own: OwnReplicaInfo;
  /** The live records, gateways first; embedded mode: this replica's own. Never on a request's path. */
  readReplicaInfos(): Promise<ReplicaInfo[]>;
}

/** Embedded mode: one process, no Redis; its record is the cluster's. */
export function embeddedReplicaDirectory(own: OwnReplicaInfo, clock: () => number = Date.now): ReplicaDirectory {
  return { own, readReplicaInfos: async () => [own.record('ok', clock())] };
}

/** Cluster mode: the records in Redis, each expiring a few heartbeats after its process stopped writing it. */
export function redisReplicaDirectory(own: OwnReplicaInfo, redis: RedisClient, keys: RedisKeys, health: RedisHealth): ReplicaDirectory {
  return {
    own,
    readReplicaInfos: async () => {
      const infos = await readReplicaInfos(redis, keys);
      // This replica's heartbeat may not have reached Redis yet (starting, or Redis down): it is live all the same.
      if (infos.some((info) => info.id === own.id)) return infos;
      return [own.record(health.degraded ? 'degraded' : 'ok', Date.now()), ...infos];
    },
  };
}
