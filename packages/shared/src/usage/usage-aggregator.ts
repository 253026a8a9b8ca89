import { setTimeout as sleep } from 'node:timers/promises';
import type { RedisClient } from '../state/redis/connection.js';
import type { ScriptCommands } from '../state/redis/scripts.js';
import type { RedisKeys } from '../state/keys.js';
import type { Logger } from '../logger/logger.js';
import { parseUsageRecord, usageDay } from './usage-record.js';
import { usageIncrements, usageKeyOf } from './usage-totals.js';
import { USAGE_GROUP } from './redis-usage-ledger.js';

export interface UsageAggregatorOptions {
  /** A connection of its own (XREADGROUP blocks it for up to `blockMs` at a time), closed by stop(). */
  readonly redis: RedisClient & ScriptCommands;
  readonly keys: RedisKeys;
  /** This consumer's name in the group: the replica id. */
  readonly consumer: string;
  readonly logger: Logger;
  /** Entries pending longer than this on another consumer (one that died mid-batch) are claimed. */
  readonly claimIdleMs: number;
  /** How often this consumer looks for such entries. */
  readonly claimIntervalMs: number;
  /** How long a counted record's id is remembered, so that a duplicate entry is not counted. */
  readonly dedupeSeconds: number;
  readonly retentionDays: number;
  /** Entries per read. */
  readonly batchSize?: number;
  /** Longest wait for new entries per read. */
  readonly blockMs?: number;
  /**
   * After a read that did not fill a batch, the pause before the next one (default 200 ms): at low traffic records
   * are then counted a few batches a second, not one script call each.
   */
  readonly idleWaitMs?: number;
  /** Called with the number of records counted by each batch (metrics). */
  readonly onCounted?: (counted: number, duplicates: number, malformed: number) => void;
}

type StreamEntry = [id: string, fields: string[] | null];

type ReadReply = [stream: string, entries: StreamEntry[]][] | null;

/**
 * One consumer of the usage stream's consumer group. It reads new entries, counts them into the day totals with the
 * aggregateUsage script (which acknowledges and deletes them in the same step, skipping duplicates), and now and then
 * claims entries another consumer read but never counted because it died: so records of a killed replica are
 * counted by a live one. Every gateway replica runs one; any number may run at once.
 */
export class UsageAggregator {
  private running = false;
  private loop: Promise<void> | undefined;
  private lastClaim = 0;
  private readonly batchSize: number;
  private readonly blockMs: number;
  private readonly stopping = new AbortController();

  constructor(private readonly options: UsageAggregatorOptions) {
    this.batchSize = options.batchSize ?? 200;
    this.blockMs = options.blockMs ?? 1_000;
  }

  start(): void {
    if (this.running) return;
    this.running = true;
    this.loop = this.run();
  }

  /**
   * Stops and closes the connection, cutting a blocked read short. A batch cut short stays pending on this consumer
   * and is claimed by another (its script ran whole or not at all).
   */
  async stop(): Promise<void> {
    this.running = false;
    this.stopping.abort();
    this.options.redis.disconnect();
    await this.loop;
  }

  /** Reads and counts until stopped; Redis errors are logged and retried after a pause, never thrown. */
  private async run(): Promise<void> {
    let groupReady = false;
    // Entries this consumer name read before a restart and never counted come first ('0' reads its own pending).
    let cursor = '0';
    let failures = 0;
    while (this.running) {
      try {
        if (!groupReady) {
          await this.createGroup();
          groupReady = true;
        }
        const reply = (await this.options.redis.xreadgroup(
          'GROUP', USAGE_GROUP, this.options.consumer,
          'COUNT', this.batchSize,
          'BLOCK', this.blockMs,
          'STREAMS', this.options.keys.usageStream(), cursor,
        )) as ReadReply;
        const entries = reply?.[0]?.[1] ?? [];
        if (cursor === '0' && entries.length === 0) cursor = '>';
        await this.count(entries);
        await this.claimAbandoned();
        failures = 0;
        if (cursor === '>' && entries.length < this.batchSize) await this.pause(this.options.idleWaitMs ?? 200);
      } catch (error) {
        if (!this.running) return;
        // The stream or its group was deleted (NOGROUP): make them again.
        if (String(error).includes('NOGROUP')) groupReady = false;
        failures += 1;
        if (failures === 1 || failures % 60 === 0) this.options.logger.warn('usage aggregation failed; retrying', { error: String(error), failures });
        await this.pause(Math.min(100 * failures, 2_000));
      }
    }
  }

  /** Waits, or less when stopped. */
  private async pause(milliseconds: number): Promise<void> {
    await sleep(milliseconds, undefined, { signal: this.stopping.signal }).catch(() => undefined);
  }

  private async createGroup(): Promise<void> {
    try {
      // From the stream's start: records written before any consumer existed are counted too.
      await this.options.redis.xgroup('CREATE', this.options.keys.usageStream(), USAGE_GROUP, '0', 'MKSTREAM');
    } catch (error) {
      if (!String(error).includes('BUSYGROUP')) throw error;
    }
  }

  /** Claims entries that sat pending on another consumer for claimIdleMs, and counts them. */
  private async claimAbandoned(): Promise<void> {
    const now = Date.now();
    if (now - this.lastClaim < this.options.claimIntervalMs) return;
    this.lastClaim = now;
    await this.claim();
  }

  private async claim(): Promise<void> {
    let start = '0-0';
    do {
      const [next, entries] = (await this.options.redis.xautoclaim(
        this.options.keys.usageStream(), USAGE_GROUP, this.options.consumer, this.options.claimIdleMs, start, 'COUNT', this.batchSize,
      )) as [string, (StreamEntry | null)[]];
      const claimed = entries.filter((entry): entry is StreamEntry => entry !== null);
      if (claimed.length > 0) this.options.logger.info('claimed usage records of a consumer that stopped', { records: claimed.length });
      await this.count(claimed);
      start = next;
    } while (start !== '0-0' && this.running);
  }

  /** Counts entries: one script call for the batch. Malformed entries are acknowledged, logged and skipped. */
  private async count(entries: readonly StreamEntry[]): Promise<void> {
    if (entries.length === 0) return;
    const { keys, redis } = this.options;
    const scriptKeys = [keys.usageStream()];
    const args: (string | number)[] = [USAGE_GROUP, this.options.dedupeSeconds, this.options.retentionDays * 86_400];
    let malformed = 0;
    for (const [entryId, fields] of entries) {
      const record = parseUsageRecord(fieldValue(fields, 'r') ?? '');
      if (!record) {
        malformed += 1;
        this.options.logger.warn('malformed usage record in the stream: acknowledged and skipped', { entryId });
        await redis.xack(keys.usageStream(), USAGE_GROUP, entryId);
        await redis.xdel(keys.usageStream(), entryId);
        continue;
      }
      const increments = usageIncrements(record);
      const day = usageDay(record.at);
      const keyId = usageKeyOf(record);
      scriptKeys.push(keys.usageSeen(record.id), keys.usageDay(day, keyId), keys.usageKeys(day));
      args.push(entryId, keyId, increments.length, ...increments.flat());
    }
    if (scriptKeys.length === 1) {
      this.options.onCounted?.(0, 0, malformed);
      return;
    }
    const counted = Number(await redis.dosrouterAggregateUsageV1(scriptKeys.length, ...scriptKeys, ...args));
    this.options.onCounted?.(counted, (scriptKeys.length - 1) / 3 - counted, malformed);
  }
}

function fieldValue(fields: readonly string[] | null, name: string): string | undefined {
  // A pending entry deleted from the stream is read back with no fields.
  if (!fields) return undefined;
  for (let index = 0; index + 1 < fields.length; index += 2) if (fields[index] === name) return fields[index + 1];
  return undefined;
}
