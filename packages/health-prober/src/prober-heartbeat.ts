import { deleteReplicaInfo, writeReplicaInfo, type OwnReplicaInfo, type RedisClient, type RedisKeys } from '@dosrouter/shared';

export interface ProberHeartbeatOptions {
  readonly redis: RedisClient;
  readonly keys: RedisKeys;
  readonly info: OwnReplicaInfo;
  /** How often the record is rewritten; it expires after three intervals without a write. */
  readonly intervalMs: number;
}

export interface ProberHeartbeat {
  /** Writes the record now (also what each interval does); a failure marks the next record degraded. */
  beat(): Promise<void>;
  /** Stops writing and removes the record. */
  stop(): Promise<void>;
}

/**
 * The prober's info record in Redis (as each gateway's poll writes its own): id, version, config revision, Redis
 * state, last reload — for the dashboard's Replicas view and the gateways' `/readyz/detail`.
 */
export function startProberHeartbeat({ redis, keys, info, intervalMs }: ProberHeartbeatOptions): ProberHeartbeat {
  let degraded = false;
  let running: Promise<void> | undefined;
  const beat = (): Promise<void> => {
    running ??= writeReplicaInfo(redis.pipeline(), keys, info.record(degraded ? 'degraded' : 'ok', Date.now()), intervalMs * 3)
      .exec()
      .then(
        (replies) => {
          degraded = (replies ?? []).some(([error]) => error);
        },
        () => {
          degraded = true;
        },
      )
      .finally(() => (running = undefined));
    return running;
  };
  const timer = setInterval(() => void beat(), intervalMs);
  timer.unref();
  return {
    beat,
    stop: async () => {
      clearInterval(timer);
      await running;
      await deleteReplicaInfo(redis.pipeline(), keys, info.id).exec().catch(() => undefined);
    },
  };
}
