import { ReplyError } from 'ioredis';

/**
 * Why a Redis command failed, as its caller must act on it:
 * - `timeout`: no answer within `redis.commandTimeoutMs`. Redis may have run the command, or may run it still.
 * - `unavailable`: the connection failed or is closed, or Redis says it cannot serve right now (LOADING, BUSY,
 *   MASTERDOWN, CLUSTERDOWN, TRYAGAIN, READONLY, OOM, NOREPLICAS). Redis is down for this replica: degraded mode.
 * - `rejected`: Redis answered, with an error of the command itself: a script refused its arguments (`BADARG …`)
 *   or failed (`ERR … script: …`), or our own code threw. A bug, never an outage: it must not put a replica in
 *   degraded mode, or one client's bad input would switch every other client to the fallback.
 */
export type RedisFailureKind = 'timeout' | 'unavailable' | 'rejected';

/** Error replies that say Redis cannot serve at the moment, not that the command is wrong. */
const UNAVAILABLE_REPLIES = /^(LOADING|BUSY|MASTERDOWN|CLUSTERDOWN|TRYAGAIN|READONLY|OOM|NOREPLICAS)\b/;

/** The one place that maps a failed command (or a script's error code) to what it means. */
export function redisFailureKind(error: unknown): RedisFailureKind {
  if (error instanceof ReplyError) return UNAVAILABLE_REPLIES.test((error as Error).message) ? 'unavailable' : 'rejected';
  if (!(error instanceof Error)) return 'rejected';
  // ioredis' commandTimeout rejects with exactly this message (Command.setTimeout).
  if (error.message === 'Command timed out') return 'timeout';
  // Our own code failing around the command: a bug as well.
  if (error instanceof TypeError || error instanceof RangeError || error instanceof ReferenceError || error instanceof SyntaxError) return 'rejected';
  // The rest are the client's connection errors: refused, reset, closed, not writable, retries exhausted, no node.
  return 'unavailable';
}

