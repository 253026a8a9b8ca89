import { createRequire } from 'node:module';
import type { ChainableCommander } from 'ioredis';
import { z } from 'zod';
import type { RedisKeys } from './keys.js';
import type { RedisClient } from './redis/connection.js';

/** The layout of a replica info record. A reader skips a record of a version it does not know. */
export const REPLICA_INFO_SCHEMA_VERSION = 1;

/** How long the index of records keeps an entry no process has refreshed; each record expires with its own TTL. */
const INDEX_TTL_MS = 10 * 60_000;

/** The package version every process reports (one workspace, one version). */
export const DOSROUTER_VERSION: string = (createRequire(import.meta.url)('../../package.json') as { version: string }).version;

const configReloadSchema = z.strictObject({
  /** When the last reload was tried (ms). */
  at: z.number().int().nonnegative(),
  /** `applied`: a new config serves; `unchanged`: the file means the same config; `invalid`: the old one stays. */
  result: z.enum(['applied', 'unchanged', 'invalid']),
  /** Why the last reload was refused (`invalid`): the loader's message, naming the fields. */
  error: z.string().optional(),
});

const replicaInfoSchema = z.object({
  schemaVersion: z.literal(REPLICA_INFO_SCHEMA_VERSION),
  id: z.string().min(1),
  role: z.enum(['gateway', 'prober']),
  version: z.string(),
  /** configRevision() of the config the process runs. */
  configRevision: z.string(),
  startedAt: z.number().int().nonnegative(),
  redis: z.enum(['ok', 'degraded']),
  /** When the process last wrote the record (ms). */
  lastSeen: z.number().int().nonnegative(),
  /** The last config reload (SIGHUP or a watched file's change), once there was one. */
  configReload: configReloadSchema.optional(),
});

/** What one gateway replica or prober says about itself, refreshed with its heartbeat (dashboard, `/readyz?detail`). */
export type ReplicaInfo = z.infer<typeof replicaInfoSchema>;
export type ConfigReloadStatus = z.infer<typeof configReloadSchema>;
export type ReplicaRole = ReplicaInfo['role'];

/** The record in `json`, or undefined when it is malformed or of a schema version this reader does not know. */
export function parseReplicaInfo(json: string): ReplicaInfo | undefined {
  let value: unknown;
  try {
    value = JSON.parse(json);
  } catch {
    return undefined;
  }
  const result = replicaInfoSchema.safeParse(value);
  return result.success ? result.data : undefined;
}

/**
 * Adds the writes of a process's record to a pipeline the process sends anyway (its heartbeat): the record with a TTL
 * of `ttlMs`, and its entry in the index readers list the records by. No round trip of its own.
 */
export function writeReplicaInfo(pipeline: ChainableCommander, keys: RedisKeys, info: ReplicaInfo, ttlMs: number): ChainableCommander {
  return pipeline
    .set(keys.replicaInfo(info.id), JSON.stringify(info), 'PX', Math.max(1, Math.ceil(ttlMs)))
    .zadd(keys.replicaInfoIndex(), info.lastSeen, info.id)
    .zremrangebyscore(keys.replicaInfoIndex(), '-inf', info.lastSeen - INDEX_TTL_MS)
    .pexpire(keys.replicaInfoIndex(), INDEX_TTL_MS);
}

/** Removes a process's record at once, as it stops (rather than when its TTL runs out). */
export function deleteReplicaInfo(pipeline: ChainableCommander, keys: RedisKeys, id: string): ChainableCommander {
  return pipeline.del(keys.replicaInfo(id)).zrem(keys.replicaInfoIndex(), id);
}

/**
 * The records of the live gateway replicas and probers (those whose record has not expired), gateways first, each
 * role by id. Two round trips; for pages and `/readyz?detail`, never a request's path. Index entries whose record
 * expired are removed on the way.
 */
export async function readReplicaInfos(redis: RedisClient, keys: RedisKeys): Promise<ReplicaInfo[]> {
  const ids = await redis.zrange(keys.replicaInfoIndex(), '0', '-1');
  if (ids.length === 0) return [];
  const values = await redis.mget(ids.map((id) => keys.replicaInfo(id)));
  const gone = ids.filter((_, index) => values[index] === null);
  if (gone.length > 0) await redis.zrem(keys.replicaInfoIndex(), ...gone);
  return sortReplicaInfos(values.flatMap((value) => (value === null ? [] : (parseReplicaInfo(value) ?? []))));
}

export function sortReplicaInfos(infos: readonly ReplicaInfo[]): ReplicaInfo[] {
  return [...infos].sort((a, b) => (a.role === b.role ? (a.id < b.id ? -1 : a.id > b.id ? 1 : 0) : a.role === 'gateway' ? -1 : 1));
}

/** Revision → the ids of the processes running it: several revisions at once show a change half rolled out. */
export function revisionsOf(infos: readonly ReplicaInfo[]): Record<string, string[]> {
  const revisions: Record<string, string[]> = {};
  for (const info of infos) (revisions[info.configRevision] ??= []).push(info.id);
  return revisions;
}

/**
 * A process's own record as it stands: fixed identity, and the config revision and last reload, which a reload
 * changes. The heartbeat turns it into a ReplicaInfo each time it writes.
 */
export class OwnReplicaInfo {
  private revision: string;
  private reload: ConfigReloadStatus | undefined;

  constructor(
    readonly id: string,
    readonly role: ReplicaRole,
    revision: string,
    readonly startedAt: number,
  ) {
    this.revision = revision;
  }

  get configRevision(): string {
    return this.revision;
  }

  get configReload(): ConfigReloadStatus | undefined {
    return this.reload;
  }

  /** A reload happened: its outcome, and the revision now serving (the same one when the reload was refused). */
  reloaded(status: ConfigReloadStatus, revision: string = this.revision): void {
    this.reload = status;
    this.revision = revision;
  }

  record(redis: ReplicaInfo['redis'], now: number): ReplicaInfo {
    return {
      schemaVersion: REPLICA_INFO_SCHEMA_VERSION,
      id: this.id,
      role: this.role,
      version: DOSROUTER_VERSION,
      configRevision: this.revision,
      startedAt: this.startedAt,
      redis,
      lastSeen: now,
      ...(this.reload === undefined ? {} : { configReload: this.reload }),
    };
  }
}
