import type { RedisClient } from '../state/redis/connection.js';
import type { ScriptCommands } from '../state/redis/scripts.js';
import type { RedisKeys } from '../state/keys.js';
import { toNanoUsd, usageDay, usageMonth, type UsageRecord } from './usage-record.js';
import type { UsageDay } from './usage-totals.js';
import type { UsageLedger } from './usage-ledger.js';

/** The consumer group that aggregates the usage stream; every gateway replica is one consumer of it. */
export const USAGE_GROUP = 'aggregators';

/** Spend counters outlive their period a little, so that a request finishing at midnight still finds its day's. */
const DAY_SPEND_TTL_SECONDS = 2 * 86_400;
const MONTH_SPEND_TTL_SECONDS = 32 * 86_400;

/**
 * Cluster mode: a record is appended to the usage stream (`XADD`) and its cost added to its key's spend counters
 * (`addSpend`), both in the round trip the connection's auto-pipelining gives every command of the same tick. The
 * totals are counted by the consumers (UsageAggregator) on every replica.
 */
export class RedisUsageLedger implements UsageLedger {
  constructor(
    private readonly redis: RedisClient & ScriptCommands,
    private readonly keys: RedisKeys,
  ) {}

  async append(records: readonly UsageRecord[]): Promise<void> {
    const writes: Promise<unknown>[] = [];
    const stream = this.keys.usageStream();
    for (const record of records) {
      writes.push(this.redis.xadd(stream, '*', 'r', JSON.stringify(record)));
      const cost = toNanoUsd(record.costUsd);
      if (record.keyId === undefined || cost === 0) continue;
      writes.push(
        this.redis.dosrouterAddSpendV1(
          2,
          this.keys.spend(record.keyId, usageDay(record.at)),
          this.keys.spend(record.keyId, usageMonth(record.at)),
          cost,
          DAY_SPEND_TTL_SECONDS,
          MONTH_SPEND_TTL_SECONDS,
        ),
      );
    }
    await Promise.all(writes);
  }

  /** Counted entries are deleted from the stream: what is left is still to count. */
  async backlog(): Promise<number> {
    return this.redis.xlen(this.keys.usageStream());
  }

  async readDays(days: readonly string[], keyId?: string): Promise<UsageDay[]> {
    const keysOfDays = keyId === undefined ? await Promise.all(days.map((day) => this.redis.smembers(this.keys.usageKeys(day)))) : days.map(() => [keyId]);
    const wanted = days.flatMap((day, index) => keysOfDays[index]!.map((key) => ({ day, keyId: key })));
    const tables = await Promise.all(wanted.map(({ day, keyId: key }) => this.redis.hgetall(this.keys.usageDay(day, key))));
    return wanted.flatMap(({ day, keyId: key }, index) => {
      const table = tables[index]!;
      if (Object.keys(table).length === 0) return [];
      return [{ day, keyId: key, counters: Object.fromEntries(Object.entries(table).map(([name, value]) => [name, Number(value)])) }];
    });
  }
}
