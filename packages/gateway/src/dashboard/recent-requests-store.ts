import type { RedisClient, RedisKeys } from '@dosrouter/shared';
import type { RecentRequest, RecentRequests } from './recent-requests.js';

/** How long a replica's list outlives its last write: a replica gone keeps its requests visible for a while. */
const RECENT_TTL_MS = 60 * 60_000;

/**
 * Copies the requests this replica finished since its last poll to its capped Redis list (newest first), in one
 * pipeline. Run by the cluster poll, never on a request's path; nothing to send costs no round trip.
 */
export async function flushRecentRequests(redis: RedisClient, keys: RedisKeys, replica: string, recent: RecentRequests): Promise<void> {
  const entries = recent.takeUnsent();
  if (entries.length === 0) return;
  const key = keys.recentRequests(replica);
  // LPUSH puts each value at the head in turn: the oldest first leaves the newest at the head.
  const values = entries.reverse().map((entry) => JSON.stringify(entry));
  const replies = await redis.pipeline().lpush(key, ...values).ltrim(key, 0, recent.capacity - 1).pexpire(key, RECENT_TTL_MS).exec();
  const failed = replies?.find(([error]) => error);
  if (failed) throw failed[0];
}

/**
 * The live replicas' recent requests merged, newest first, at most `limit`: each replica's Redis list, with this
 * replica's own ring in place of its list (its newest requests are not there until the next poll). Entries that
 * cannot be read (another release's, corrupted) are skipped.
 */
export async function readClusterRecentRequests(redis: RedisClient, keys: RedisKeys, own: RecentRequests, ownReplica: string, limit: number): Promise<RecentRequest[]> {
  const replicas = (await redis.zrange(keys.replicas(), '0', '-1')).filter((replica) => replica !== ownReplica);
  const read = redis.pipeline();
  for (const replica of replicas) read.lrange(keys.recentRequests(replica), 0, limit - 1);
  const replies = replicas.length === 0 ? [] : ((await read.exec()) ?? []);
  const entries: RecentRequest[] = own.list();
  for (const [error, values] of replies) {
    if (error) throw error;
    for (const value of values as string[]) {
      const entry = parseEntry(value);
      if (entry) entries.push(entry);
    }
  }
  return newestFirst(entries, limit);
}

export function newestFirst(entries: RecentRequest[], limit: number): RecentRequest[] {
  return entries.sort((a, b) => b.at - a.at).slice(0, limit);
}

function parseEntry(value: string): RecentRequest | undefined {
  try {
    const entry = JSON.parse(value) as Partial<RecentRequest> | null;
    return entry && typeof entry.id === 'string' && typeof entry.at === 'number' && typeof entry.replica === 'string' ? (entry as RecentRequest) : undefined;
  } catch {
    return undefined;
  }
}
